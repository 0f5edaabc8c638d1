/* placeholder until module tensor lands */
typedef int tt_placeholder_tensor;
