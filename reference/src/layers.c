/* placeholder until module layers lands */
typedef int tt_placeholder_layers;
