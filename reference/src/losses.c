/* placeholder until module losses lands */
typedef int tt_placeholder_losses;
