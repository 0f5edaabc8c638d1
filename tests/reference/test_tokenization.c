/*
 * Tests of module 10 (tokenization) against the reference implementation.
 *
 * Expected ids, vocabularies and merges come from tests/fixtures/tokenization.txt,
 * made by gen_tokenization.py: an independent Python implementation of the algorithms
 * the header documents (its BPE encoder even uses the other formulation, "merge the
 * lowest-ranked pair present" instead of "apply the merges in rank order", so the
 * fixtures also check that the two agree). Texts cover held-out English, bytes the
 * corpus never had, UTF-8, NUL and 255 bytes, one byte; small corpora pin down the
 * rules one at a time: overlapping pair counts, the stop below a count of 2, and
 * both levels of the tie rule.
 *
 * Besides: round trips (also on seeded random byte strings), empty texts, ids out of
 * range, every documented error with the out-parameters cleared, and allocation
 * failures injected into each function in turn (the harness checks for leaks).
 */
#include "harness.h"
#include "fixtures.h"

#include "tinytorch/tokenization.h"

static fixtures *FX;

/* Out-parameters start pointing here: functions that fail must clear them. */
static int32_t not_ids[1];
static char not_text[1];
static tt_char_tokenizer *const not_char_tok = (tt_char_tokenizer *)(void *)not_text;
static tt_bpe *const not_bpe = (tt_bpe *)(void *)not_text;

/* ==================================================================== helpers */

/* A fixture of byte values as a malloc'd byte string (plus a NUL), its length in *len. */
static char *fixture_bytes(const char *name, size_t *len)
{
    const fixture *f = fixture_find(FX, name);
    CHECK(f != NULL);
    *len = f ? f->numel : 0;
    char *s = malloc(*len + 1);
    for (size_t i = 0; f && i < f->numel; i++)
        s[i] = (char)(unsigned char)f->data[i];
    s[*len] = '\0';
    return s;
}

/* ids[0..count) must be the fixture's values exactly. */
static void check_ids(const int32_t *ids, size_t count, const char *name)
{
    const fixture *f = fixture_find(FX, name);
    CHECK(f != NULL);
    if (!f)
        return;
    if (count != f->numel) {
        fprintf(stderr, "%s: %s: %zu ids, expected %zu\n", harness_current, name, count,
                f->numel);
        harness_current_failed++;
        return;
    }
    for (size_t i = 0; i < count; i++)
        if (ids[i] != (int32_t)f->data[i]) {
            fprintf(stderr, "%s: %s: id %zu is %ld, expected %ld\n", harness_current, name, i,
                    (long)ids[i], (long)f->data[i]);
            harness_current_failed++;
            return;
        }
}

static const char *const text_names[] = {"held_out", "unknown", "utf8", "binary", "corpus_line",
                                         "one"};
#define N_TEXTS (sizeof text_names / sizeof text_names[0])

static const size_t bpe_sizes[] = {260, 300, 420, 100000};
#define N_SIZES (sizeof bpe_sizes / sizeof bpe_sizes[0])

static tt_char_tokenizer *char_tok_a(void)
{
    size_t len = 0;
    char *corpus = fixture_bytes("corpus.a", &len);
    tt_char_tokenizer *tok = NULL;
    CHECK_OK(tt_char_tokenizer_new(&tok, corpus, len));
    free(corpus);
    return tok;
}

static tt_bpe *bpe_a(size_t vocab_size)
{
    size_t len = 0;
    char *corpus = fixture_bytes("corpus.a", &len);
    tt_bpe *bpe = NULL;
    CHECK_OK(tt_bpe_train(&bpe, corpus, len, vocab_size));
    free(corpus);
    return bpe;
}

/* ======================================================== character tokenizer */

static void test_char_vocabulary(void)
{
    tt_char_tokenizer *tok = char_tok_a();
    const fixture *v = fixture_find(FX, "char.a.vocab");
    CHECK(tok && v);
    if (!tok || !v)
        goto done;
    CHECK(tt_char_tokenizer_vocab_size(tok) == 1 + v->numel);
    /* Sorted by byte value: the i-th byte of the vocabulary has id i + 1. */
    bool in_vocab[256] = {false};
    for (size_t i = 0; i < v->numel; i++) {
        unsigned char b = (unsigned char)v->data[i];
        in_vocab[b] = true;
        CHECK(tt_char_tokenizer_id(tok, b) == (int32_t)(i + 1));
    }
    for (int b = 0; b < 256; b++)
        if (!in_vocab[b])
            CHECK(tt_char_tokenizer_id(tok, (unsigned char)b) == TT_CHAR_UNK_ID);
    /* The header's example. */
    tt_char_tokenizer *hello = NULL;
    CHECK_OK(tt_char_tokenizer_new(&hello, "hello", 5));
    CHECK(tt_char_tokenizer_vocab_size(hello) == 5);
    CHECK(tt_char_tokenizer_id(hello, 'e') == 1 && tt_char_tokenizer_id(hello, 'h') == 2 &&
          tt_char_tokenizer_id(hello, 'l') == 3 && tt_char_tokenizer_id(hello, 'o') == 4 &&
          tt_char_tokenizer_id(hello, 'x') == TT_CHAR_UNK_ID);
    tt_char_tokenizer_free(hello);
    /* Every byte value, NUL and 255 included, in a corpus with repeats. */
    char all[512];
    for (int i = 0; i < 512; i++)
        all[i] = (char)(unsigned char)(255 - i % 256);
    tt_char_tokenizer *full = NULL;
    CHECK_OK(tt_char_tokenizer_new(&full, all, sizeof all));
    CHECK(tt_char_tokenizer_vocab_size(full) == 257);
    CHECK(tt_char_tokenizer_id(full, 0) == 1 && tt_char_tokenizer_id(full, 255) == 256);
    tt_char_tokenizer_free(full);
    CHECK(tt_char_tokenizer_vocab_size(NULL) == 0);
    CHECK(tt_char_tokenizer_id(NULL, 'a') == TT_CHAR_UNK_ID);
    tt_char_tokenizer_free(NULL);
done:
    tt_char_tokenizer_free(tok);
}

static void test_char_encode_decode(void)
{
    tt_char_tokenizer *tok = char_tok_a();
    if (!tok)
        return;
    for (size_t k = 0; k < N_TEXTS; k++) {
        char key[96];
        size_t len = 0;
        snprintf(key, sizeof key, "text.%s", text_names[k]);
        char *text = fixture_bytes(key, &len);
        int32_t *ids = not_ids;
        size_t count = 99;
        CHECK_OK(tt_char_tokenizer_encode(&ids, &count, tok, text, len));
        snprintf(key, sizeof key, "char.a.enc.%s", text_names[k]);
        check_ids(ids, count, key);
        /* Decoding gives the text back, with each unknown byte as TT_CHAR_UNK_BYTE. */
        char *back = not_text;
        size_t back_len = 99;
        CHECK_OK(tt_char_tokenizer_decode(&back, &back_len, tok, ids, count));
        CHECK(back_len == len && back && back[len] == '\0');
        for (size_t i = 0; back && back_len == len && i < len; i++) {
            bool known = tt_char_tokenizer_id(tok, (unsigned char)text[i]) != TT_CHAR_UNK_ID;
            CHECK(back[i] == (known ? text[i] : TT_CHAR_UNK_BYTE));
        }
        tt_free(back);
        tt_free(ids);
        free(text);
    }
    /* The corpus itself round-trips exactly. */
    size_t len = 0;
    char *corpus = fixture_bytes("corpus.a", &len);
    int32_t *ids = NULL;
    size_t count = 0;
    char *back = NULL;
    size_t back_len = 0;
    CHECK_OK(tt_char_tokenizer_encode(&ids, &count, tok, corpus, len));
    CHECK_OK(tt_char_tokenizer_decode(&back, &back_len, tok, ids, count));
    CHECK(back_len == len && back && memcmp(back, corpus, len) == 0);
    tt_free(ids);
    tt_free(back);
    free(corpus);
    /* Empty text: no ids, but a block to free; and back to "". */
    ids = not_ids;
    count = 99;
    CHECK_OK(tt_char_tokenizer_encode(&ids, &count, tok, "", 0));
    CHECK(ids != NULL && ids != not_ids && count == 0);
    back = not_text;
    back_len = 99;
    CHECK_OK(tt_char_tokenizer_decode(&back, &back_len, tok, ids, 0));
    CHECK(back != NULL && back_len == 0 && back[0] == '\0');
    tt_free(ids);
    tt_free(back);
    tt_char_tokenizer_free(tok);
}

static void test_char_errors(void)
{
    tt_char_tokenizer *tok = not_char_tok;
    CHECK_STATUS(tt_char_tokenizer_new(NULL, "ab", 2), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_char_tokenizer_new");
    CHECK_STATUS(tt_char_tokenizer_new(&tok, NULL, 2), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("NULL");
    CHECK(tok == NULL);
    tok = not_char_tok;
    CHECK_STATUS(tt_char_tokenizer_new(&tok, "ab", 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("empty");
    CHECK(tok == NULL);
    tok = not_char_tok;
    tt_alloc_fail_after(0);
    CHECK_STATUS(tt_char_tokenizer_new(&tok, "ab", 2), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(tok == NULL);

    CHECK_OK(tt_char_tokenizer_new(&tok, "abc", 3));
    int32_t *ids = not_ids;
    size_t count = 99;
    CHECK_STATUS(tt_char_tokenizer_encode(NULL, &count, tok, "a", 1), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_char_tokenizer_encode");
    CHECK(count == 0);
    CHECK_STATUS(tt_char_tokenizer_encode(&ids, NULL, tok, "a", 1), TT_ERR_INVALID_ARG);
    CHECK(ids == NULL);
    ids = not_ids;
    CHECK_STATUS(tt_char_tokenizer_encode(&ids, &count, NULL, "a", 1), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tokenizer");
    CHECK(ids == NULL);
    ids = not_ids;
    CHECK_STATUS(tt_char_tokenizer_encode(&ids, &count, tok, NULL, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("text");
    CHECK(ids == NULL && count == 0);
    ids = not_ids;
    count = 99;
    tt_alloc_fail_after(0);
    CHECK_STATUS(tt_char_tokenizer_encode(&ids, &count, tok, "ab", 2), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(ids == NULL && count == 0);

    const int32_t bad_hi[3] = {1, 2, 4}, bad_lo[2] = {1, -1}, ok_ids[3] = {3, 0, 1};
    char *text = not_text;
    size_t len = 99;
    CHECK_STATUS(tt_char_tokenizer_decode(&text, &len, tok, bad_hi, 3), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("id 4 at position 2");
    CHECK(text == NULL && len == 0);
    CHECK_STATUS(tt_char_tokenizer_decode(&text, &len, tok, bad_lo, 2), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("-1");
    CHECK_STATUS(tt_char_tokenizer_decode(NULL, &len, tok, ok_ids, 3), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_char_tokenizer_decode(&text, NULL, tok, ok_ids, 3), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_char_tokenizer_decode(&text, &len, NULL, ok_ids, 3), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_char_tokenizer_decode(&text, &len, tok, NULL, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("ids");
    text = not_text;
    tt_alloc_fail_after(0);
    CHECK_STATUS(tt_char_tokenizer_decode(&text, &len, tok, ok_ids, 3), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(text == NULL && len == 0);
    CHECK_OK(tt_char_tokenizer_decode(&text, &len, tok, ok_ids, 3));
    CHECK(len == 3 && text && strcmp(text, "c?a") == 0);
    tt_free(text);
    tt_char_tokenizer_free(tok);
}

/* ============================================================ byte-level BPE */

static void check_merges(const tt_bpe *bpe, const char *name)
{
    const fixture *f = fixture_find(FX, name);
    CHECK(f != NULL);
    if (!f || !bpe)
        return;
    size_t m = f->ndim == 2 ? f->shape[0] : 0;
    CHECK(tt_bpe_merge_count(bpe) == m);
    CHECK(tt_bpe_vocab_size(bpe) == TT_BPE_BYTE_TOKENS + tt_bpe_merge_count(bpe));
    for (size_t r = 0; r < m && r < tt_bpe_merge_count(bpe); r++) {
        int32_t left = -1, right = -1;
        CHECK_OK(tt_bpe_merge(bpe, r, &left, &right));
        if (left != (int32_t)f->data[2 * r] || right != (int32_t)f->data[2 * r + 1]) {
            fprintf(stderr, "%s: %s: merge %zu is (%ld, %ld), expected (%ld, %ld)\n",
                    harness_current, name, r, (long)left, (long)right, (long)f->data[2 * r],
                    (long)f->data[2 * r + 1]);
            harness_current_failed++;
            return;
        }
    }
}

static void test_bpe_train_matches_python(void)
{
    size_t len = 0;
    char *corpus = fixture_bytes("corpus.a", &len);
    for (size_t k = 0; k < N_SIZES; k++) {
        tt_bpe *bpe = not_bpe;
        CHECK_OK(tt_bpe_train(&bpe, corpus, len, bpe_sizes[k]));
        char key[96];
        snprintf(key, sizeof key, "bpe.a.v%zu.merges", bpe_sizes[k]);
        check_merges(bpe, key);
        /* Never more than asked for. */
        CHECK(tt_bpe_vocab_size(bpe) <= bpe_sizes[k]);
        /* The corpus encodes to the sequence training ended with. */
        int32_t *ids = NULL;
        size_t count = 0;
        CHECK_OK(tt_bpe_encode(&ids, &count, bpe, corpus, len));
        snprintf(key, sizeof key, "bpe.a.v%zu.train_ids", bpe_sizes[k]);
        check_ids(ids, count, key);
        tt_free(ids);
        tt_bpe_free(bpe);
    }
    /* 260 asks for exactly 4 merges; 420 stops early (no pair twice any more). */
    tt_bpe *b = bpe_a(260);
    CHECK(tt_bpe_vocab_size(b) == 260);
    tt_bpe_free(b);
    b = bpe_a(420);
    CHECK(tt_bpe_vocab_size(b) < 420);
    tt_bpe_free(b);
    free(corpus);
}

static void test_bpe_encode_matches_python(void)
{
    for (size_t k = 0; k < N_SIZES; k++) {
        tt_bpe *bpe = bpe_a(bpe_sizes[k]);
        if (!bpe)
            continue;
        for (size_t t = 0; t < N_TEXTS; t++) {
            char key[96];
            size_t len = 0;
            snprintf(key, sizeof key, "text.%s", text_names[t]);
            char *text = fixture_bytes(key, &len);
            int32_t *ids = not_ids;
            size_t count = 0;
            CHECK_OK(tt_bpe_encode(&ids, &count, bpe, text, len));
            snprintf(key, sizeof key, "bpe.a.v%zu.enc.%s", bpe_sizes[k], text_names[t]);
            check_ids(ids, count, key);
            CHECK(count <= len);
            tt_free(ids);
            free(text);
        }
        tt_bpe_free(bpe);
    }
}

static void test_bpe_rules(void)
{
    static const char *const corpora[] = {"aaaa", "tie_left", "tie_right", "once"};
    for (size_t k = 0; k < 4; k++) {
        char key[96];
        size_t len = 0;
        snprintf(key, sizeof key, "small.%s.corpus", corpora[k]);
        char *corpus = fixture_bytes(key, &len);
        tt_bpe *bpe = NULL;
        CHECK_OK(tt_bpe_train(&bpe, corpus, len, 1000));
        snprintf(key, sizeof key, "small.%s.count", corpora[k]);
        CHECK(tt_bpe_merge_count(bpe) == (size_t)fixture_find(FX, key)->data[0]);
        snprintf(key, sizeof key, "small.%s.merges", corpora[k]);
        check_merges(bpe, key);
        int32_t *ids = NULL;
        size_t count = 0;
        CHECK_OK(tt_bpe_encode(&ids, &count, bpe, corpus, len));
        snprintf(key, sizeof key, "small.%s.train_ids", corpora[k]);
        check_ids(ids, count, key);
        tt_free(ids);
        tt_bpe_free(bpe);
        free(corpus);
    }
    /* Spelled out: "aaa" has (a, a) twice, so it is merged, into [aa, a]. */
    tt_bpe *bpe = NULL;
    CHECK_OK(tt_bpe_train(&bpe, "aaa", 3, 300));
    CHECK(tt_bpe_merge_count(bpe) == 1);
    int32_t *ids = NULL;
    size_t count = 0;
    CHECK_OK(tt_bpe_encode(&ids, &count, bpe, "aaa", 3));
    CHECK(count == 2 && ids[0] == 256 && ids[1] == 'a');
    tt_free(ids);
    tt_bpe_free(bpe);
    /* vocab_size 256: no merges, ids are the bytes. An empty corpus is allowed. */
    CHECK_OK(tt_bpe_train(&bpe, "abababab", 8, 256));
    CHECK(tt_bpe_merge_count(bpe) == 0 && tt_bpe_vocab_size(bpe) == 256);
    CHECK_OK(tt_bpe_encode(&ids, &count, bpe, "\xff\x00z", 3));
    CHECK(count == 3 && ids[0] == 255 && ids[1] == 0 && ids[2] == 'z');
    tt_free(ids);
    tt_bpe_free(bpe);
    CHECK_OK(tt_bpe_train(&bpe, "", 0, 1000));
    CHECK(tt_bpe_merge_count(bpe) == 0);
    tt_bpe_free(bpe);
    CHECK(tt_bpe_vocab_size(NULL) == 0 && tt_bpe_merge_count(NULL) == 0);
    tt_bpe_free(NULL);
}

static void test_bpe_deterministic(void)
{
    /* Two trainings on the same corpus agree merge for merge. */
    tt_bpe *a = bpe_a(400), *b = bpe_a(400);
    CHECK(a && b && tt_bpe_merge_count(a) == tt_bpe_merge_count(b));
    for (size_t r = 0; a && b && r < tt_bpe_merge_count(a); r++) {
        int32_t l1, r1, l2, r2;
        CHECK_OK(tt_bpe_merge(a, r, &l1, &r1));
        CHECK_OK(tt_bpe_merge(b, r, &l2, &r2));
        CHECK(l1 == l2 && r1 == r2);
    }
    tt_bpe_free(a);
    tt_bpe_free(b);
}

static void test_bpe_round_trip(void)
{
    tt_bpe *bpe = bpe_a(300);
    if (!bpe)
        return;
    /* Fixture texts, and seeded random byte strings of many lengths. */
    tt_rng rng;
    tt_rng_init(&rng, 2026);
    for (size_t k = 0; k < N_TEXTS + 40; k++) {
        size_t len = 0;
        char *text = NULL;
        if (k < N_TEXTS) {
            char key[96];
            snprintf(key, sizeof key, "text.%s", text_names[k]);
            text = fixture_bytes(key, &len);
        } else {
            /* Half of them drawn from a small alphabet, so that merges apply. */
            len = tt_rng_below(&rng, 200);
            text = malloc(len + 1);
            for (size_t i = 0; i < len; i++)
                text[i] = k % 2 ? (char)tt_rng_below(&rng, 256) : "the n"[tt_rng_below(&rng, 5)];
        }
        int32_t *ids = NULL;
        size_t count = 0;
        char *back = NULL;
        size_t back_len = 0;
        CHECK_OK(tt_bpe_encode(&ids, &count, bpe, text ? text : "", len));
        CHECK_OK(tt_bpe_decode(&back, &back_len, bpe, ids, count));
        CHECK(back_len == len && back && back[len] == '\0' && memcmp(back, text, len) == 0);
        tt_free(ids);
        tt_free(back);
        free(text);
    }
    /* Empty text. */
    int32_t *ids = not_ids;
    size_t count = 99;
    CHECK_OK(tt_bpe_encode(&ids, &count, bpe, "", 0));
    CHECK(ids && ids != not_ids && count == 0);
    char *back = not_text;
    size_t back_len = 99;
    CHECK_OK(tt_bpe_decode(&back, &back_len, bpe, ids, 0));
    CHECK(back && back != not_text && back_len == 0 && back[0] == '\0');
    tt_free(ids);
    tt_free(back);
    tt_bpe_free(bpe);
}

static void test_bpe_token_bytes(void)
{
    tt_bpe *bpe = bpe_a(300);
    if (!bpe)
        return;
    const char *bytes = NULL;
    size_t len = 0;
    CHECK_OK(tt_bpe_token_bytes(&bytes, &len, bpe, 'q'));
    CHECK(len == 1 && bytes && bytes[0] == 'q');
    CHECK_OK(tt_bpe_token_bytes(&bytes, &len, bpe, 0));
    CHECK(len == 1 && bytes && bytes[0] == '\0');
    for (int32_t id = 297; id < 300; id++) {
        char key[96];
        snprintf(key, sizeof key, "bpe.a.v300.bytes.%ld", (long)id);
        size_t want_len = 0;
        char *want = fixture_bytes(key, &want_len);
        CHECK_OK(tt_bpe_token_bytes(&bytes, &len, bpe, id));
        CHECK(len == want_len && bytes && memcmp(bytes, want, len) == 0);
        free(want);
    }
    /* A merged token's bytes are its pair's bytes, for every merge. */
    for (size_t r = 0; r < tt_bpe_merge_count(bpe); r++) {
        int32_t l, rr;
        const char *bl, *br, *bm;
        size_t nl, nr, nm;
        CHECK_OK(tt_bpe_merge(bpe, r, &l, &rr));
        CHECK_OK(tt_bpe_token_bytes(&bl, &nl, bpe, l));
        CHECK_OK(tt_bpe_token_bytes(&br, &nr, bpe, rr));
        CHECK_OK(tt_bpe_token_bytes(&bm, &nm, bpe, (int32_t)(256 + r)));
        CHECK(nm == nl + nr && memcmp(bm, bl, nl) == 0 && memcmp(bm + nl, br, nr) == 0);
    }
    bytes = "x";
    len = 7;
    CHECK_STATUS(tt_bpe_token_bytes(&bytes, &len, bpe, 300), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("id 300");
    CHECK(bytes == NULL && len == 0);
    CHECK_STATUS(tt_bpe_token_bytes(&bytes, &len, bpe, -2), TT_ERR_RANGE);
    CHECK_STATUS(tt_bpe_token_bytes(NULL, &len, bpe, 1), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_bpe_token_bytes(&bytes, NULL, bpe, 1), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_bpe_token_bytes(&bytes, &len, NULL, 1), TT_ERR_INVALID_ARG);
    tt_bpe_free(bpe);
}

static void test_bpe_vocab_vs_length(void)
{
    /* The trade-off of the module, measured: a bigger vocabulary gives shorter
     * sequences of the same text (never longer), both on the corpus and held out. */
    size_t len = 0;
    char *held = fixture_bytes("text.held_out", &len);
    size_t prev_corpus = SIZE_MAX, prev_held = SIZE_MAX;
    for (size_t k = 0; k < 3; k++) {
        tt_bpe *bpe = bpe_a(bpe_sizes[k]);
        const fixture *f = fixture_find(FX, "corpus.a");
        char key[96];
        snprintf(key, sizeof key, "bpe.a.v%zu.train_ids", bpe_sizes[k]);
        size_t corpus_tokens = fixture_find(FX, key)->numel;
        int32_t *ids = NULL;
        size_t count = 0;
        CHECK_OK(tt_bpe_encode(&ids, &count, bpe, held, len));
        CHECK(corpus_tokens < f->numel && corpus_tokens < prev_corpus);
        CHECK(count < len && count <= prev_held);
        prev_corpus = corpus_tokens;
        prev_held = count;
        tt_free(ids);
        tt_bpe_free(bpe);
    }
    free(held);
}

static void test_bpe_errors(void)
{
    tt_bpe *bpe = not_bpe;
    CHECK_STATUS(tt_bpe_train(NULL, "ab", 2, 300), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_bpe_train");
    CHECK_STATUS(tt_bpe_train(&bpe, NULL, 0, 300), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("corpus");
    CHECK(bpe == NULL);
    bpe = not_bpe;
    CHECK_STATUS(tt_bpe_train(&bpe, "ab", 2, 255), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("vocab_size 255");
    CHECK(bpe == NULL);
    CHECK_STATUS(tt_bpe_train(&bpe, "ab", 2, (size_t)INT32_MAX + 1), TT_ERR_INVALID_ARG);

    size_t len = 0;
    char *corpus = fixture_bytes("corpus.a", &len);
    size_t live = tt_alloc_live();
    int ok = 0;
    for (long n = 0; n < 20 && !ok; n++) {
        bpe = not_bpe;
        tt_alloc_fail_after(n);
        tt_status st = tt_bpe_train(&bpe, corpus, len, 300);
        tt_alloc_fail_after(-1);
        if (st == TT_OK) {
            check_merges(bpe, "bpe.a.v300.merges");
            ok = 1;
            break;
        }
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(bpe == NULL);
        CHECK(tt_alloc_live() == live);
    }
    CHECK(ok);
    free(corpus);
    if (!ok)
        return;

    int32_t left = 0, right = 0;
    CHECK_STATUS(tt_bpe_merge(bpe, tt_bpe_merge_count(bpe), &left, &right), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("rank 44");
    CHECK_STATUS(tt_bpe_merge(NULL, 0, &left, &right), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_bpe_merge(bpe, 0, NULL, &right), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_bpe_merge(bpe, 0, &left, NULL), TT_ERR_INVALID_ARG);

    int32_t *ids = not_ids;
    size_t count = 99;
    CHECK_STATUS(tt_bpe_encode(NULL, &count, bpe, "a", 1), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("tt_bpe_encode");
    CHECK(count == 0);
    CHECK_STATUS(tt_bpe_encode(&ids, NULL, bpe, "a", 1), TT_ERR_INVALID_ARG);
    CHECK(ids == NULL);
    ids = not_ids;
    CHECK_STATUS(tt_bpe_encode(&ids, &count, NULL, "a", 1), TT_ERR_INVALID_ARG);
    CHECK(ids == NULL);
    ids = not_ids;
    CHECK_STATUS(tt_bpe_encode(&ids, &count, bpe, NULL, 0), TT_ERR_INVALID_ARG);
    CHECK(ids == NULL && count == 0);
    ids = not_ids;
    tt_alloc_fail_after(0);
    CHECK_STATUS(tt_bpe_encode(&ids, &count, bpe, "the", 3), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(ids == NULL && count == 0);

    const int32_t bad_hi[3] = {116, 300, 0}, bad_lo[1] = {-5}, good[3] = {299, 32, 256};
    char *text = not_text;
    size_t tlen = 99;
    CHECK_STATUS(tt_bpe_decode(&text, &tlen, bpe, bad_hi, 3), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("id 300 at position 1");
    CHECK(text == NULL && tlen == 0);
    CHECK_STATUS(tt_bpe_decode(&text, &tlen, bpe, bad_lo, 1), TT_ERR_RANGE);
    CHECK_ERROR_MENTIONS("-5");
    CHECK_STATUS(tt_bpe_decode(NULL, &tlen, bpe, good, 3), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_bpe_decode(&text, NULL, bpe, good, 3), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_bpe_decode(&text, &tlen, NULL, good, 3), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_bpe_decode(&text, &tlen, bpe, NULL, 0), TT_ERR_INVALID_ARG);
    text = not_text;
    tt_alloc_fail_after(0);
    CHECK_STATUS(tt_bpe_decode(&text, &tlen, bpe, good, 3), TT_ERR_NOMEM);
    tt_alloc_fail_after(-1);
    CHECK(text == NULL && tlen == 0);
    tt_bpe_free(bpe);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    (void)fixture_tensor; /* fixtures.h's tensor reader: this module has no tensors */
    FX = fixtures_load("tokenization");
    if (!FX) {
        fprintf(stderr, "cannot run without tests/fixtures/tokenization.txt\n");
        return 1;
    }
    RUN(test_char_vocabulary);
    RUN(test_char_encode_decode);
    RUN(test_char_errors);
    RUN(test_bpe_train_matches_python);
    RUN(test_bpe_encode_matches_python);
    RUN(test_bpe_rules);
    RUN(test_bpe_deterministic);
    RUN(test_bpe_round_trip);
    RUN(test_bpe_token_bytes);
    RUN(test_bpe_vocab_vs_length);
    RUN(test_bpe_errors);
    fixtures_free(FX);
    return harness_summary();
}
