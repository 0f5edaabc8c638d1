/*
 * grader/suites/10_tokenization/hidden.c: the hidden checks of module 10
 * (tokenization).
 *
 * Students see only each case's category and verdict. Every check follows from
 * tinytorch/tokenization.h: bytes are unsigned and NUL is an ordinary byte, empty texts
 * encode to nothing, ties among many equal counts, encodings of texts the tokenizer was
 * not trained on, and a round trip of every byte value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/tokenization.h"

#include "helpers.h"

/* n random bytes with values in [lo, lo + span). */
static char *random_bytes(tito_probe *p, unsigned lo, unsigned span, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(unsigned char)(lo + tt_rng_next_u32(probe_rng(p)) % span);
    s[n] = '\0';
    return s;
}

static void case_char_high_and_nul_bytes(tito_probe *p)
{
    char *corpus = random_bytes(p, 250, 6, 40); /* 250..255 */
    if (corpus)
        corpus[3] = '\0';
    char *text = random_bytes(p, 248, 8, 30);
    tt_char_tokenizer *tok = NULL;
    int32_t *ids = NULL;
    size_t count = 0;
    probe_note(p, "corpus of bytes 250..255 and one NUL (bytes sort as unsigned char, NUL "
                  "is a byte like any other); encode bytes 248..255");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_char_tokenizer_new(&tok, corpus, 40));
    probe_int(p, "vocab_size", (long)tt_char_tokenizer_vocab_size(tok));
    probe_status(p, "encode_status", tt_char_tokenizer_encode(&ids, &count, tok, text, 30));
    record_ids(p, "ids", ids, count);
    tt_free(ids);
    tt_char_tokenizer_free(tok);
    free(text);
    free(corpus);
}

static void case_bpe_binary_corpus(tito_probe *p)
{
    char *corpus = random_bytes(p, 0, 3, 300); /* bytes 0, 1, 2 */
    tt_bpe *bpe = NULL;
    int32_t *ids = NULL;
    size_t count = 0;
    probe_note(p, "BPE on 300 random bytes of {0, 1, 2} (NUL bytes included), vocab 270: "
                  "the merges and the corpus's encoding");
    probe_tol_exact(p);
    probe_status(p, "train_status", tt_bpe_train(&bpe, corpus, 300, 270));
    probe_int(p, "vocab_size", (long)tt_bpe_vocab_size(bpe));
    size_t n = tt_bpe_merge_count(bpe);
    for (size_t r = 0; bpe && r < n && r < 14; r++) {
        int32_t l = -1, rr = -1;
        probe_status(p, "merge_status", tt_bpe_merge(bpe, r, &l, &rr));
        probe_int(p, "left", l);
        probe_int(p, "right", rr);
    }
    probe_status(p, "encode_status",
                 bpe ? tt_bpe_encode(&ids, &count, bpe, corpus, 300) : TT_ERR_STATE);
    record_ids(p, "ids", ids, count);
    tt_free(ids);
    tt_bpe_free(bpe);
    free(corpus);
}

static void case_bpe_many_ties(tito_probe *p)
{
    /* Every pair of distinct letters appears exactly twice: all ties. */
    const char *corpus = "zyzyxwxwvuvudcdcbaba";
    probe_note(p, "tt_bpe_train(\"zyzyxwxwvuvudcdcbaba\", vocab 266): many pairs seen twice; "
                  "each merge takes the smallest (left, right) among the most frequent");
    tt_bpe *bpe = NULL;
    probe_tol_exact(p);
    probe_status(p, "train_status", tt_bpe_train(&bpe, corpus, strlen(corpus), 266));
    size_t n = tt_bpe_merge_count(bpe);
    probe_int(p, "merge_count", (long)n);
    for (size_t r = 0; bpe && r < n; r++) {
        int32_t l = -1, rr = -1;
        probe_status(p, "merge_status", tt_bpe_merge(bpe, r, &l, &rr));
        probe_int(p, "left", l);
        probe_int(p, "right", rr);
    }
    tt_bpe_free(bpe);
}

static void case_bpe_empty_and_roundtrip(tito_probe *p)
{
    tt_bpe *bpe = NULL;
    int32_t *ids = NULL;
    size_t count = 99, len = 0;
    char *back = NULL;
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)(unsigned char)i;
    probe_note(p, "BPE trained on an empty corpus (len 0, vocab 300): no merges; encode of \"\" "
                  "gives count 0; every byte value 0..255 encodes to itself and decodes back");
    probe_tol_exact(p);
    probe_status(p, "train_status", tt_bpe_train(&bpe, "", 0, 300));
    probe_int(p, "vocab_size", (long)tt_bpe_vocab_size(bpe));
    probe_status(p, "encode_empty", bpe ? tt_bpe_encode(&ids, &count, bpe, "", 0) : TT_ERR_STATE);
    probe_int(p, "count", (long)count);
    tt_free(ids);
    ids = NULL;
    probe_status(p, "encode_all", bpe ? tt_bpe_encode(&ids, &count, bpe, all, 256) : TT_ERR_STATE);
    record_ids(p, "ids", ids, count);
    probe_status(p, "decode_status",
                 ids ? tt_bpe_decode(&back, &len, bpe, ids, count) : TT_ERR_STATE);
    probe_int(p, "roundtrip", back && len == 256 && memcmp(back, all, 256) == 0);
    tt_free(back);
    tt_free(ids);
    tt_bpe_free(bpe);
}

static void case_bpe_rank_order_encoding(tito_probe *p)
{
    char *corpus = random_bytes(p, 'a', 3, 600);
    char *text = random_bytes(p, 'a', 4, 200);
    tt_bpe *bpe = NULL;
    int32_t *ids = NULL;
    size_t count = 0;
    probe_note(p, "train on 600 random bytes of \"abc\" (vocab 300), then encode 200 random "
                  "bytes of \"abcd\": merges applied in rank order, left to right");
    probe_tol_exact(p);
    probe_status(p, "train_status", tt_bpe_train(&bpe, corpus, 600, 300));
    probe_status(p, "encode_status",
                 bpe ? tt_bpe_encode(&ids, &count, bpe, text, 200) : TT_ERR_STATE);
    record_ids(p, "ids", ids, count);
    tt_free(ids);
    tt_bpe_free(bpe);
    free(text);
    free(corpus);
}

static const tito_probe_case cases[] = {
    {"char.high_and_nul_bytes", "character", 2, case_char_high_and_nul_bytes},
    {"bpe.binary_corpus", "bpe_training", 2, case_bpe_binary_corpus},
    {"bpe.many_ties", "bpe_training", 2, case_bpe_many_ties},
    {"bpe.empty_and_roundtrip", "bpe_encoding", 2, case_bpe_empty_and_roundtrip},
    {"bpe.rank_order_encoding", "bpe_encoding", 2, case_bpe_rank_order_encoding},
};

TITO_PROBE_MAIN(cases)
