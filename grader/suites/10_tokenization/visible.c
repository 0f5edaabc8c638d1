/*
 * grader/suites/10_tokenization/visible.c: the visible checks of module 10
 * (tokenization).
 *
 * You can read this file: it is exactly what `tito` runs against your tokenization.c
 * and against the course's reference, on the same random inputs. Token ids, merges and
 * bytes are integers, so every record here is exact. Id lists and byte strings are
 * recorded as 1-D tensors (one value per id or byte) so that a failure names the first
 * position that differs.
 *
 * Random corpora are drawn from small alphabets, so that pairs repeat and ties between
 * equally frequent pairs are common: the tie rule of tinytorch/tokenization.h (smallest
 * left id, then smallest right id) decides many merges.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "tinytorch/tokenization.h"

/* record_ids, which the hidden checks use too. */
#include "helpers.h"

/* ------------------------------------------------------------ helpers */

static void record_bytes(tito_probe *p, const char *label, const char *bytes, size_t len)
{
    char name[64];
    snprintf(name, sizeof name, "%s.len", label);
    probe_int(p, name, (long)len);
    if (!bytes || len == 0 || len > 1000000) {
        probe_tensor(p, label, NULL);
        return;
    }
    float *v = malloc(len * sizeof *v);
    if (!v)
        return;
    for (size_t i = 0; i < len; i++)
        v[i] = (float)(unsigned char)bytes[i];
    tt_tensor *t = probe_from_data(p, 1, TT_SHAPE(len), v);
    probe_tensor(p, label, t);
    tt_tensor_free(t);
    free(v);
}

/* n random bytes of `alphabet` (from the case's generator), NUL-terminated; the caller
 * frees. */
static char *random_text(tito_probe *p, const char *alphabet, size_t n)
{
    size_t k = strlen(alphabet);
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = alphabet[tt_rng_next_u32(probe_rng(p)) % k];
    s[n] = '\0';
    return s;
}

/* Every merge of a trained tokenizer, as pairs, plus the counts. */
static void record_merges(tito_probe *p, const tt_bpe *bpe)
{
    probe_int(p, "vocab_size", (long)tt_bpe_vocab_size(bpe));
    size_t n = tt_bpe_merge_count(bpe);
    probe_int(p, "merge_count", (long)n);
    if (!bpe || n == 0 || n > 100000)
        return;
    int32_t *pairs = calloc(2 * n, sizeof *pairs);
    if (!pairs)
        return;
    tt_status st = TT_OK;
    for (size_t r = 0; r < n && st == TT_OK; r++)
        st = tt_bpe_merge(bpe, r, &pairs[2 * r], &pairs[2 * r + 1]);
    probe_status(p, "merge_status", st);
    record_ids(p, "merges", pairs, 2 * n);
    free(pairs);
}

/* ------------------------------------------------------------ character tokenizer */

static void case_char_vocab(tito_probe *p)
{
    const char *corpus = "hello";
    tt_char_tokenizer *tok = NULL;
    probe_note(p, "tt_char_tokenizer_new(&tok, \"hello\", 5): vocabulary {unk, e, h, l, o}, "
                  "size 5; ids: e 1, h 2, l 3, o 4, any other byte 0");
    probe_tol_exact(p);
    probe_status(p, "status", tt_char_tokenizer_new(&tok, corpus, 5));
    probe_int(p, "vocab_size", (long)tt_char_tokenizer_vocab_size(tok));
    int32_t ids[256];
    for (int b = 0; b < 256; b++)
        ids[b] = tt_char_tokenizer_id(tok, (unsigned char)b);
    record_ids(p, "id_of_each_byte", ids, 256);
    tt_char_tokenizer_free(tok);
}

static void case_char_random(tito_probe *p)
{
    char *corpus = random_text(p, "abcxyz \n.,", 300);
    char *text = random_text(p, "abcdxyz!\n", 80);
    tt_char_tokenizer *tok = NULL;
    int32_t *ids = NULL;
    size_t count = 0, len = 0;
    char *back = NULL;
    probe_note(p, "a tokenizer of 300 random bytes of \"abcxyz \\n.,\", then encode 80 random "
                  "bytes of \"abcdxyz!\\n\" ('d' and '!' are unknown: id 0) and decode them "
                  "(unknown ids decode to '?')");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_char_tokenizer_new(&tok, corpus, corpus ? 300 : 0));
    probe_int(p, "vocab_size", (long)tt_char_tokenizer_vocab_size(tok));
    probe_status(p, "encode_status", tt_char_tokenizer_encode(&ids, &count, tok, text, 80));
    record_ids(p, "ids", ids, count);
    tt_status st = ids && count == 80 ? tt_char_tokenizer_decode(&back, &len, tok, ids, count)
                                      : TT_ERR_STATE;
    probe_status(p, "decode_status", st);
    record_bytes(p, "decoded", back, len);
    probe_int(p, "decoded_nul_terminated", back && len == 80 && back[len] == '\0');
    tt_free(back);
    tt_free(ids);
    tt_char_tokenizer_free(tok);
    free(text);
    free(corpus);
}

static void case_char_empty_text(tito_probe *p)
{
    tt_char_tokenizer *tok = NULL;
    int32_t *ids = NULL;
    size_t count = 99;
    probe_note(p, "encode \"\" (len 0) with a tokenizer of \"ab\": TT_OK, count 0, and a block "
                  "to free");
    probe_tol_exact(p);
    probe_status(p, "new_status", tt_char_tokenizer_new(&tok, "ab", 2));
    probe_status(p, "encode_status", tt_char_tokenizer_encode(&ids, &count, tok, "", 0));
    probe_int(p, "count", (long)count);
    tt_free(ids);
    tt_char_tokenizer_free(tok);
}

static void case_char_errors(tito_probe *p)
{
    tt_char_tokenizer *tok = NULL;
    int32_t *ids = NULL;
    size_t count = 0, len = 0;
    char *text = NULL;
    probe_tol_exact(p);
    probe_note(p, "new with a NULL corpus or len 0, encode/decode with NULL arguments -> "
                  "TT_ERR_INVALID_ARG; decode of id 3 with a vocabulary of size 3 -> "
                  "TT_ERR_RANGE; out-parameters NULL and 0 after an error");
    probe_status(p, "new.corpus_null", tt_char_tokenizer_new(&tok, NULL, 3));
    probe_status(p, "new.len_0", tt_char_tokenizer_new(&tok, "abc", 0));
    probe_status(p, "new.out_null", tt_char_tokenizer_new(NULL, "abc", 3));
    probe_int(p, "new.out_is_null", tok == NULL);
    probe_status(p, "new_status", tt_char_tokenizer_new(&tok, "ab", 2));
    probe_status(p, "encode.tok_null", tt_char_tokenizer_encode(&ids, &count, NULL, "a", 1));
    probe_status(p, "encode.text_null", tt_char_tokenizer_encode(&ids, &count, tok, NULL, 1));
    const int32_t bad[3] = {1, 2, 3};
    probe_status(p, "decode.range", tt_char_tokenizer_decode(&text, &len, tok, bad, 3));
    probe_int(p, "decode.out_is_null", text == NULL && len == 0);
    probe_status(p, "decode.ids_null", tt_char_tokenizer_decode(&text, &len, tok, NULL, 1));
    probe_int(p, "encode.out_is_null", ids == NULL && count == 0);
    tt_free(text);
    tt_free(ids);
    tt_char_tokenizer_free(tok);
}

/* ------------------------------------------------------------ BPE training */

static void train_and_record(tito_probe *p, const char *corpus, size_t len, size_t vocab)
{
    tt_bpe *bpe = NULL;
    probe_tol_exact(p);
    probe_status(p, "train_status", tt_bpe_train(&bpe, corpus, len, vocab));
    record_merges(p, bpe);
    /* The training corpus encodes to the sequence training ended with. */
    int32_t *ids = NULL;
    size_t count = 0;
    probe_status(p, "encode_status",
                 bpe ? tt_bpe_encode(&ids, &count, bpe, corpus, len) : TT_ERR_STATE);
    record_ids(p, "corpus_ids", ids, count);
    tt_free(ids);
    tt_bpe_free(bpe);
}

static void case_bpe_classic(tito_probe *p)
{
    probe_note(p, "tt_bpe_train(\"aaabdaaabac\", vocab 259): merges (a,a)=256, then "
                  "(a,b)=257 (seen twice like (256,a): the smaller left id wins), then "
                  "(256,257)=258 -- each the most frequent pair, ties to the smallest (left, "
                  "right)");
    train_and_record(p, "aaabdaaabac", 11, 259);
}

static void case_bpe_tie_break(tito_probe *p)
{
    probe_note(p, "tt_bpe_train(\"cdcdabab\", vocab 257): (c,d) and (a,b) are both seen twice; "
                  "the tie goes to the smaller left id, 'a' (97): merge 0 is (97, 98)");
    train_and_record(p, "cdcdabab", 8, 257);
}

static void case_bpe_overlap(tito_probe *p)
{
    probe_note(p, "tt_bpe_train(\"aaaaa\", vocab 300): (a,a) counts 4 at overlapping "
                  "positions; replaced left to right without overlap: [aa, aa, a]; then "
                  "(256,256) is seen once only, below 2: training stops with 1 merge");
    train_and_record(p, "aaaaa", 5, 300);
}

static void case_bpe_stop_rule(tito_probe *p)
{
    probe_note(p, "tt_bpe_train(\"abcdef\", vocab 300): no pair is seen twice: no merge, "
                  "vocab_size 256; and vocab 256 asks for no merge at all on \"aaaa\"");
    train_and_record(p, "abcdef", 6, 300);
    train_and_record(p, "aaaa", 4, 256);
}

static void case_bpe_random(tito_probe *p)
{
    size_t n = probe_small(p) ? 60 : 400;
    char *corpus = random_text(p, "ab c", n);
    probe_note(p, "tt_bpe_train on %zu random bytes of \"ab c\", vocab 256 + 24: every merge "
                  "(left, right) in rank order, and the corpus's final encoding", n);
    if (corpus)
        train_and_record(p, corpus, n, 280);
    free(corpus);
}

static void case_bpe_token_bytes(tito_probe *p)
{
    tt_bpe *bpe = NULL;
    probe_note(p, "after tt_bpe_train(\"aaabdaaabac\", 259): tt_bpe_token_bytes of ids 97, 256, "
                  "257, 258 (\"a\", \"aa\", \"ab\", \"aaab\")");
    probe_tol_exact(p);
    probe_status(p, "train_status", tt_bpe_train(&bpe, "aaabdaaabac", 11, 259));
    static const int32_t ids[4] = {97, 256, 257, 258};
    for (int i = 0; i < 4; i++) {
        const char *bytes = NULL;
        size_t len = 0;
        char label[32];
        snprintf(label, sizeof label, "bytes_of_%d", (int)ids[i]);
        probe_status(p, "token_bytes_status",
                     bpe ? tt_bpe_token_bytes(&bytes, &len, bpe, ids[i]) : TT_ERR_STATE);
        record_bytes(p, label, bytes, len);
    }
    tt_bpe_free(bpe);
}

/* ------------------------------------------------------------ BPE encode / decode */

static void case_bpe_encode_new_text(tito_probe *p)
{
    size_t n = probe_small(p) ? 80 : 500;
    char *corpus = random_text(p, "the cat ", n);
    char *text = random_text(p, "the dog!", 120);
    tt_bpe *bpe = NULL;
    int32_t *ids = NULL;
    size_t count = 0, len = 0;
    char *back = NULL;
    probe_note(p, "train on %zu random bytes of \"the cat \" (vocab 290), encode 120 random bytes "
                  "of \"the dog!\" (merges applied in rank order), decode them back", n);
    probe_tol_exact(p);
    probe_status(p, "train_status", corpus ? tt_bpe_train(&bpe, corpus, n, 290) : TT_ERR_STATE);
    probe_status(p, "encode_status",
                 bpe && text ? tt_bpe_encode(&ids, &count, bpe, text, 120) : TT_ERR_STATE);
    record_ids(p, "ids", ids, count);
    probe_status(p, "decode_status",
                 ids ? tt_bpe_decode(&back, &len, bpe, ids, count) : TT_ERR_STATE);
    record_bytes(p, "decoded", back, len);
    probe_int(p, "decoded_nul_terminated", back && len == 120 && back[len] == '\0');
    tt_free(back);
    tt_free(ids);
    tt_bpe_free(bpe);
    free(text);
    free(corpus);
}

static void case_bpe_errors(tito_probe *p)
{
    tt_bpe *bpe = NULL;
    int32_t l = -1, r = -1, *ids = NULL;
    size_t count = 0, len = 0;
    const char *bytes = NULL;
    char *text = NULL;
    probe_tol_exact(p);
    probe_note(p, "train with vocab 255, NULL corpus or out -> TT_ERR_INVALID_ARG; merge rank "
                  ">= merge count, token id >= vocab size or < 0, decode of such ids -> "
                  "TT_ERR_RANGE");
    probe_status(p, "train.vocab_255", tt_bpe_train(&bpe, "abab", 4, 255));
    probe_status(p, "train.corpus_null", tt_bpe_train(&bpe, NULL, 4, 260));
    probe_status(p, "train.out_null", tt_bpe_train(NULL, "abab", 4, 260));
    probe_int(p, "train.out_is_null", bpe == NULL);
    probe_status(p, "train_status", tt_bpe_train(&bpe, "ababab", 6, 260));
    probe_status(p, "merge.rank_range", bpe ? tt_bpe_merge(bpe, 5, &l, &r) : TT_ERR_STATE);
    probe_status(p, "token_bytes.range",
                 bpe ? tt_bpe_token_bytes(&bytes, &len, bpe, 300) : TT_ERR_STATE);
    probe_status(p, "token_bytes.negative",
                 bpe ? tt_bpe_token_bytes(&bytes, &len, bpe, -1) : TT_ERR_STATE);
    const int32_t bad[2] = {97, 400};
    probe_status(p, "decode.range", bpe ? tt_bpe_decode(&text, &len, bpe, bad, 2) : TT_ERR_STATE);
    probe_int(p, "decode.out_is_null", text == NULL && len == 0);
    probe_status(p, "encode.text_null", tt_bpe_encode(&ids, &count, bpe, NULL, 3));
    probe_int(p, "encode.out_is_null", ids == NULL && count == 0);
    tt_free(text);
    tt_free(ids);
    tt_bpe_free(bpe);
}

static const tito_probe_case cases[] = {
    {"char.vocab", "character", 2, case_char_vocab},
    {"char.encode_decode", "character", 2, case_char_random},
    {"char.empty_text", "character", 1, case_char_empty_text},
    {"char.errors", "errors", 1, case_char_errors},
    {"bpe.classic", "bpe_training", 3, case_bpe_classic},
    {"bpe.tie_break", "bpe_training", 2, case_bpe_tie_break},
    {"bpe.overlap", "bpe_training", 2, case_bpe_overlap},
    {"bpe.stop_rule", "bpe_training", 2, case_bpe_stop_rule},
    {"bpe.random_corpus", "bpe_training", 3, case_bpe_random},
    {"bpe.token_bytes", "bpe_training", 1, case_bpe_token_bytes},
    {"bpe.encode_new_text", "bpe_encoding", 3, case_bpe_encode_new_text},
    {"bpe.errors", "errors", 1, case_bpe_errors},
};

TITO_PROBE_MAIN(cases)
