/* Starter probe, module 10: a character tokenizer from a corpus. */
#include "probe.h"
#include "tinytorch/tokenization.h"

int main(void)
{
    size_t live = tt_alloc_live();
    tt_char_tokenizer *tok = NULL;
    int failed = probe_expect(tt_char_tokenizer_new(&tok, "hello", 5), "tt_char_tokenizer_new",
                              "tokenization.c", tok);
    return failed | probe_no_leak(live);
}
