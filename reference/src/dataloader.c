/* placeholder until module dataloader lands */
typedef int tt_placeholder_dataloader;
