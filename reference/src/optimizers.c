/* placeholder until module optimizers lands */
typedef int tt_placeholder_optimizers;
