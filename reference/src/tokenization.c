/*
 * Module 10: tokenization (contract in tinytorch/tokenization.h, guide in
 * docs/modules/10_tokenization.md).
 *
 * The character tokenizer is two lookup tables, byte -> id and id -> byte. Byte-level
 * BPE keeps its merges in rank order and, for decoding, the bytes of every token in
 * one buffer (a merged token's bytes are its pair's bytes, concatenated).
 *
 * Training counts the adjacent pairs of the whole current sequence at each step with
 * a hash table (pair ids can be as large as the vocabulary, so a dense table of
 * vocab^2 counters would not fit for large vocabularies) and then rewrites the
 * sequence in place. Each step is O(sequence length); the number of steps is the
 * number of merges. Everything is deterministic: the choice of a pair depends only on
 * the counts and the tie rule, never on the order of the hash table.
 */
#include "tinytorch/tokenization.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ======================================================== character tokenizer */

struct tt_char_tokenizer {
    int32_t id_of[256];         /* TT_CHAR_UNK_ID for a byte outside the vocabulary */
    unsigned char byte_of[257]; /* the byte of ids 1 .. vocab_size - 1 */
    size_t vocab_size;          /* 1 + number of distinct bytes */
};

/* BEGIN SOLUTION: */
/* The common checks of encode and decode: clear the outputs, refuse NULLs. */
static tt_status check_io(const char *fn, void *out, size_t *out_len, const void *tok,
                          const void *in, const char *in_name)
{
    if (!out || !out_len)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s is NULL (expected the address of "
                            "the result)", fn, out ? "the length out-parameter" : "the "
                            "result out-parameter");
    if (!tok)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: the tokenizer is NULL", fn);
    if (!in)
        return tt_error_set(TT_ERR_INVALID_ARG, "%s: %s is NULL (pass \"\" or an empty array "
                            "with count 0 for nothing)", fn, in_name);
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_char_tokenizer_new(tt_char_tokenizer **out, const char *corpus, size_t len)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_char_tokenizer_new: out is NULL (expected "
                            "the address of a tt_char_tokenizer *)");
    *out = NULL;
    if (!corpus || len == 0)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_char_tokenizer_new: the corpus is %s "
                            "(expected at least one byte to build a vocabulary from)",
                            corpus ? "empty" : "NULL");
    tt_char_tokenizer *tok = tt_calloc(1, sizeof *tok);
    if (!tok)
        return TT_ERR_NOMEM;
    bool seen[256] = {false};
    for (size_t i = 0; i < len; i++)
        seen[(unsigned char)corpus[i]] = true;
    /* Walking the byte values in order gives the sorted vocabulary directly. */
    tok->vocab_size = 1;
    for (int b = 0; b < 256; b++) {
        tok->id_of[b] = TT_CHAR_UNK_ID;
        if (seen[b]) {
            tok->id_of[b] = (int32_t)tok->vocab_size;
            tok->byte_of[tok->vocab_size++] = (unsigned char)b;
        }
    }
    *out = tok;
    return TT_OK;
    /* END SOLUTION */
}

void tt_char_tokenizer_free(tt_char_tokenizer *tok)
{
    tt_free(tok);
}

size_t tt_char_tokenizer_vocab_size(const tt_char_tokenizer *tok)
{
    /* BEGIN SOLUTION: return 0; */
    return tok ? tok->vocab_size : 0;
    /* END SOLUTION */
}

int32_t tt_char_tokenizer_id(const tt_char_tokenizer *tok, unsigned char byte)
{
    /* BEGIN SOLUTION: return TT_CHAR_UNK_ID; */
    return tok ? tok->id_of[byte] : TT_CHAR_UNK_ID;
    /* END SOLUTION */
}

tt_status tt_char_tokenizer_encode(int32_t **ids, size_t *count, const tt_char_tokenizer *tok,
                                   const char *text, size_t len)
{
    /* BEGIN SOLUTION */
    if (ids)
        *ids = NULL;
    if (count)
        *count = 0;
    tt_status st = check_io(__func__, ids, count, tok, text, "text");
    if (st != TT_OK)
        return st;
    int32_t *out = tt_malloc(len * sizeof *out);
    if (!out)
        return TT_ERR_NOMEM;
    for (size_t i = 0; i < len; i++)
        out[i] = tok->id_of[(unsigned char)text[i]];
    *ids = out;
    *count = len;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_char_tokenizer_decode(char **text, size_t *len, const tt_char_tokenizer *tok,
                                   const int32_t *ids, size_t count)
{
    /* BEGIN SOLUTION */
    if (text)
        *text = NULL;
    if (len)
        *len = 0;
    tt_status st = check_io(__func__, text, len, tok, ids, "ids");
    if (st != TT_OK)
        return st;
    /* Every id is checked before anything is allocated. */
    for (size_t i = 0; i < count; i++)
        if (ids[i] < 0 || (size_t)ids[i] >= tok->vocab_size)
            return tt_error_set(TT_ERR_RANGE, "tt_char_tokenizer_decode: id %ld at position "
                                "%zu is outside the vocabulary [0, %zu)", (long)ids[i], i,
                                tok->vocab_size);
    char *out = tt_malloc(count + 1);
    if (!out)
        return TT_ERR_NOMEM;
    for (size_t i = 0; i < count; i++)
        out[i] = ids[i] == TT_CHAR_UNK_ID ? TT_CHAR_UNK_BYTE : (char)tok->byte_of[ids[i]];
    out[count] = '\0';
    *text = out;
    *len = count;
    return TT_OK;
    /* END SOLUTION */
}

/* ============================================================ byte-level BPE */

typedef struct bpe_pair {
    int32_t left, right;
} bpe_pair;

struct tt_bpe {
    size_t n_merges;
    bpe_pair *merges;   /* [n_merges], in rank order: merge r made id 256 + r */
    size_t *offset;     /* [256 + n_merges]: where each token's bytes start in `bytes` */
    size_t *length;     /* [256 + n_merges]: how many bytes each token stands for */
    char *bytes;        /* every token's bytes, one after another */
};

/* BEGIN SOLUTION: */
/* Counts of pairs: open addressing with linear probing, keys (left << 32 | right).
 * Ids are below 2^31, so no key is all ones: that marks an empty slot. */
#define PAIR_EMPTY UINT64_MAX

typedef struct pair_count {
    uint64_t key;
    size_t count;
} pair_count;

typedef struct pair_table {
    pair_count *slots;
    size_t mask; /* capacity - 1, capacity a power of two */
    int shift;   /* 64 - log2(capacity) */
} pair_table;

static uint64_t pair_key(int32_t left, int32_t right)
{
    return (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
}

/* A capacity of at least twice `pairs`: probes stay short. */
static tt_status pair_table_init(pair_table *t, size_t pairs)
{
    size_t cap = 16;
    t->shift = 60;
    while (cap < 2 * pairs) {
        cap *= 2;
        t->shift--;
    }
    t->slots = tt_malloc(cap * sizeof *t->slots);
    if (!t->slots)
        return TT_ERR_NOMEM;
    t->mask = cap - 1;
    return TT_OK;
}

static void pair_table_clear(pair_table *t)
{
    for (size_t i = 0; i <= t->mask; i++)
        t->slots[i].key = PAIR_EMPTY;
}

static void pair_table_add(pair_table *t, uint64_t key)
{
    /* Fibonacci hashing: the top bits of the product depend on every bit of the key
     * (the low bits would ignore the left id's high bits, and collide). */
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15u) >> t->shift);
    while (t->slots[i].key != PAIR_EMPTY && t->slots[i].key != key)
        i = (i + 1) & t->mask;
    if (t->slots[i].key == PAIR_EMPTY) {
        t->slots[i].key = key;
        t->slots[i].count = 0;
    }
    t->slots[i].count++;
}

/* Replace every (left, right) of ids[0..n) by id, left to right without overlap;
 * returns the new length. In place: the write position never passes the read one. */
static size_t merge_pair(int32_t *ids, size_t n, int32_t left, int32_t right, int32_t id)
{
    size_t w = 0;
    for (size_t r = 0; r < n;) {
        if (r + 1 < n && ids[r] == left && ids[r + 1] == right) {
            ids[w++] = id;
            r += 2;
        } else {
            ids[w++] = ids[r++];
        }
    }
    return w;
}

/* Fill offset, length and bytes from the merges. */
static tt_status bpe_build_bytes(tt_bpe *bpe)
{
    size_t vocab = TT_BPE_BYTE_TOKENS + bpe->n_merges, total = 0;
    bpe->offset = tt_malloc(vocab * sizeof *bpe->offset);
    bpe->length = tt_malloc(vocab * sizeof *bpe->length);
    if (!bpe->offset || !bpe->length)
        return TT_ERR_NOMEM;
    for (size_t id = 0; id < vocab; id++) {
        bpe->length[id] = id < TT_BPE_BYTE_TOKENS
                              ? 1
                              : bpe->length[bpe->merges[id - TT_BPE_BYTE_TOKENS].left] +
                                    bpe->length[bpe->merges[id - TT_BPE_BYTE_TOKENS].right];
        bpe->offset[id] = total;
        total += bpe->length[id];
    }
    bpe->bytes = tt_malloc(total);
    if (!bpe->bytes)
        return TT_ERR_NOMEM;
    for (size_t id = 0; id < vocab; id++) {
        char *dst = bpe->bytes + bpe->offset[id];
        if (id < TT_BPE_BYTE_TOKENS) {
            *dst = (char)(unsigned char)id;
        } else {
            bpe_pair p = bpe->merges[id - TT_BPE_BYTE_TOKENS];
            memcpy(dst, bpe->bytes + bpe->offset[p.left], bpe->length[p.left]);
            memcpy(dst + bpe->length[p.left], bpe->bytes + bpe->offset[p.right],
                   bpe->length[p.right]);
        }
    }
    return TT_OK;
}
/* END SOLUTION */

tt_status tt_bpe_train(tt_bpe **out, const char *corpus, size_t len, size_t vocab_size)
{
    /* BEGIN SOLUTION */
    if (!out)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_bpe_train: out is NULL (expected the "
                            "address of a tt_bpe *)");
    *out = NULL;
    if (!corpus)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_bpe_train: the corpus is NULL (pass \"\" "
                            "with len 0 for an empty one)");
    if (vocab_size < TT_BPE_BYTE_TOKENS || vocab_size > (size_t)INT32_MAX)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_bpe_train: vocab_size %zu (expected %d to "
                            "%ld: the 256 byte tokens come first)", vocab_size,
                            TT_BPE_BYTE_TOKENS, (long)INT32_MAX);
    tt_status st = TT_OK;
    int32_t *ids = NULL;
    pair_table table = {NULL, 0, 0};
    tt_bpe *bpe = tt_calloc(1, sizeof *bpe);
    if (!bpe)
        return TT_ERR_NOMEM;
    /* Every merge shortens the sequence, so there are at most len - 1 of them. */
    size_t wanted = vocab_size - TT_BPE_BYTE_TOKENS, cap = len > 1 ? len - 1 : 0;
    if (wanted < cap)
        cap = wanted;
    bpe->merges = tt_malloc(cap * sizeof *bpe->merges);
    ids = tt_malloc(len * sizeof *ids);
    if (!bpe->merges || !ids) {
        st = TT_ERR_NOMEM;
        goto cleanup;
    }
    TT_CHECK(pair_table_init(&table, len));
    size_t n = len;
    for (size_t i = 0; i < len; i++)
        ids[i] = (unsigned char)corpus[i];
    while (bpe->n_merges < cap) {
        pair_table_clear(&table);
        for (size_t i = 0; i + 1 < n; i++)
            pair_table_add(&table, pair_key(ids[i], ids[i + 1]));
        /* The most frequent pair; on a tie the smallest key, which orders pairs by
         * left id, then right id. Independent of where keys sit in the table. */
        uint64_t best = PAIR_EMPTY;
        size_t best_count = 0;
        for (size_t i = 0; i <= table.mask; i++) {
            const pair_count *s = &table.slots[i];
            if (s->key != PAIR_EMPTY &&
                (s->count > best_count || (s->count == best_count && s->key < best))) {
                best = s->key;
                best_count = s->count;
            }
        }
        if (best_count < 2)
            break;
        bpe_pair p = {(int32_t)(best >> 32), (int32_t)(best & 0xFFFFFFFFu)};
        int32_t id = (int32_t)(TT_BPE_BYTE_TOKENS + bpe->n_merges);
        n = merge_pair(ids, n, p.left, p.right, id);
        bpe->merges[bpe->n_merges++] = p;
    }
    TT_CHECK(bpe_build_bytes(bpe));
cleanup:
    tt_free(ids);
    tt_free(table.slots);
    if (st != TT_OK) {
        tt_bpe_free(bpe);
        return st;
    }
    *out = bpe;
    return TT_OK;
    /* END SOLUTION */
}

void tt_bpe_free(tt_bpe *bpe)
{
    if (!bpe)
        return;
    tt_free(bpe->merges);
    tt_free(bpe->offset);
    tt_free(bpe->length);
    tt_free(bpe->bytes);
    tt_free(bpe);
}

size_t tt_bpe_vocab_size(const tt_bpe *bpe)
{
    /* BEGIN SOLUTION: return 0; */
    return bpe ? TT_BPE_BYTE_TOKENS + bpe->n_merges : 0;
    /* END SOLUTION */
}

size_t tt_bpe_merge_count(const tt_bpe *bpe)
{
    /* BEGIN SOLUTION: return 0; */
    return bpe ? bpe->n_merges : 0;
    /* END SOLUTION */
}

tt_status tt_bpe_merge(const tt_bpe *bpe, size_t rank, int32_t *left, int32_t *right)
{
    /* BEGIN SOLUTION */
    if (!bpe || !left || !right)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_bpe_merge: %s is NULL",
                            !bpe ? "the tokenizer" : !left ? "left" : "right");
    if (rank >= bpe->n_merges)
        return tt_error_set(TT_ERR_RANGE, "tt_bpe_merge: rank %zu, but there are %zu merges",
                            rank, bpe->n_merges);
    *left = bpe->merges[rank].left;
    *right = bpe->merges[rank].right;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_bpe_token_bytes(const char **bytes, size_t *len, const tt_bpe *bpe, int32_t id)
{
    /* BEGIN SOLUTION */
    if (bytes)
        *bytes = NULL;
    if (len)
        *len = 0;
    if (!bytes || !len || !bpe)
        return tt_error_set(TT_ERR_INVALID_ARG, "tt_bpe_token_bytes: %s is NULL",
                            !bpe ? "the tokenizer" : !bytes ? "bytes" : "len");
    size_t vocab = TT_BPE_BYTE_TOKENS + bpe->n_merges;
    if (id < 0 || (size_t)id >= vocab)
        return tt_error_set(TT_ERR_RANGE, "tt_bpe_token_bytes: id %ld is outside the "
                            "vocabulary [0, %zu)", (long)id, vocab);
    *bytes = bpe->bytes + bpe->offset[id];
    *len = bpe->length[id];
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_bpe_encode(int32_t **ids, size_t *count, const tt_bpe *bpe, const char *text,
                        size_t len)
{
    /* BEGIN SOLUTION */
    if (ids)
        *ids = NULL;
    if (count)
        *count = 0;
    tt_status st = check_io(__func__, ids, count, bpe, text, "text");
    if (st != TT_OK)
        return st;
    int32_t *out = tt_malloc(len * sizeof *out);
    if (!out)
        return TT_ERR_NOMEM;
    size_t n = len;
    for (size_t i = 0; i < len; i++)
        out[i] = (unsigned char)text[i];
    /* Rank order is enough: a merge only creates pairs that contain its new id, and
     * every earlier merge's pair is made of older ids, so no earlier merge can apply
     * again after a later one. */
    for (size_t r = 0; r < bpe->n_merges && n > 1; r++)
        n = merge_pair(out, n, bpe->merges[r].left, bpe->merges[r].right,
                       (int32_t)(TT_BPE_BYTE_TOKENS + r));
    *ids = out;
    *count = n;
    return TT_OK;
    /* END SOLUTION */
}

tt_status tt_bpe_decode(char **text, size_t *len, const tt_bpe *bpe, const int32_t *ids,
                        size_t count)
{
    /* BEGIN SOLUTION */
    if (text)
        *text = NULL;
    if (len)
        *len = 0;
    tt_status st = check_io(__func__, text, len, bpe, ids, "ids");
    if (st != TT_OK)
        return st;
    size_t vocab = TT_BPE_BYTE_TOKENS + bpe->n_merges, total = 0;
    for (size_t i = 0; i < count; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= vocab)
            return tt_error_set(TT_ERR_RANGE, "tt_bpe_decode: id %ld at position %zu is "
                                "outside the vocabulary [0, %zu)", (long)ids[i], i, vocab);
        total += bpe->length[ids[i]];
    }
    char *out = tt_malloc(total + 1);
    if (!out)
        return TT_ERR_NOMEM;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        memcpy(out + at, bpe->bytes + bpe->offset[ids[i]], bpe->length[ids[i]]);
        at += bpe->length[ids[i]];
    }
    out[total] = '\0';
    *text = out;
    *len = total;
    return TT_OK;
    /* END SOLUTION */
}
