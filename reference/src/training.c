/* placeholder until module training lands */
typedef int tt_placeholder_training;
