/* placeholder until module activations lands */
typedef int tt_placeholder_activations;
