/* placeholder until module autograd lands */
typedef int tt_placeholder_autograd;
