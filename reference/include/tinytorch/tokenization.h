/*
 * tinytorch/tokenization.h: module 10, turning text into token ids and back.
 *
 * Text is a sequence of bytes (`const char *` plus a length; NUL bytes are ordinary
 * bytes, nothing here looks for a terminator). A character of a UTF-8 text outside
 * ASCII is several bytes, hence several "characters" of the character tokenizer.
 * Token ids are int32_t.
 *
 * Two tokenizers:
 *   - the character tokenizer: one token per byte of a vocabulary taken from a
 *     corpus, plus an unknown token for every byte the corpus did not contain;
 *   - byte-level BPE (byte-pair encoding): the 256 byte values are the first 256
 *     tokens, and training on a corpus adds merged tokens, one pair at a time, until
 *     the vocabulary reaches the asked size. No byte is ever unknown.
 *
 * Ownership: a tokenizer is the caller's (`_free`, NULL harmless). encode and decode
 * allocate their result with tt_malloc; the caller releases it with tt_free (an empty
 * result is still a block to free). On error the out-parameters are NULL and 0, and
 * nothing leaks. A NULL tokenizer, out-parameter, or text / ids pointer is
 * TT_ERR_INVALID_ARG (also for a length of 0: pass "" for empty text); allocation
 * failures are TT_ERR_NOMEM. Messages name the function and the offending value.
 */
#ifndef TINYTORCH_TOKENIZATION_H
#define TINYTORCH_TOKENIZATION_H

#include "tinytorch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------ character tokenizer */

/* The id of the unknown token, which every byte missing from the corpus encodes
 * to, and the byte it decodes to. */
#define TT_CHAR_UNK_ID 0
#define TT_CHAR_UNK_BYTE '?'

typedef struct tt_char_tokenizer tt_char_tokenizer;

/* The vocabulary of `corpus` (len bytes): its distinct byte values sorted by value
 * (as unsigned char), the smallest getting id 1, the next id 2, and so on; id 0 is
 * TT_CHAR_UNK_ID. So "hello" gives {unk, 'e', 'h', 'l', 'o'}, vocabulary size 5.
 * Errors: TT_ERR_INVALID_ARG (out or corpus NULL, len 0: a vocabulary needs at least
 * one byte), TT_ERR_NOMEM. */
tt_status tt_char_tokenizer_new(tt_char_tokenizer **out, const char *corpus, size_t len);

void tt_char_tokenizer_free(tt_char_tokenizer *tok);

/* Number of ids: 1 (the unknown token) + the number of distinct bytes. 0 for NULL. */
size_t tt_char_tokenizer_vocab_size(const tt_char_tokenizer *tok);

/* The id of one byte, TT_CHAR_UNK_ID for a byte outside the vocabulary (or NULL tok). */
int32_t tt_char_tokenizer_id(const tt_char_tokenizer *tok, unsigned char byte);

/* One id per byte of text: *count is len. Unknown bytes give TT_CHAR_UNK_ID.
 * Errors: TT_ERR_INVALID_ARG, TT_ERR_NOMEM. */
tt_status tt_char_tokenizer_encode(int32_t **ids, size_t *count, const tt_char_tokenizer *tok,
                                   const char *text, size_t len);

/* One byte per id: *len is count, and (*text)[count] is a NUL (not counted) so that
 * text can be printed. TT_CHAR_UNK_ID decodes to TT_CHAR_UNK_BYTE.
 * Errors: TT_ERR_RANGE (an id outside [0, vocab_size), naming it and its position),
 * TT_ERR_INVALID_ARG, TT_ERR_NOMEM. */
tt_status tt_char_tokenizer_decode(char **text, size_t *len, const tt_char_tokenizer *tok,
                                   const int32_t *ids, size_t count);

/* ------------------------------------------------------------ byte-level BPE */

/* Ids 0..255 are the single bytes; merge number r (r = 0, 1, ...) makes id 256 + r. */
#define TT_BPE_BYTE_TOKENS 256

typedef struct tt_bpe tt_bpe;

/* Train on `corpus` (len bytes, may be 0) until the vocabulary has vocab_size ids.
 * The corpus is one sequence (no splitting into words). Start from its bytes as ids
 * 0..255, then repeat:
 *   1. count every adjacent pair (a, b) of the current sequence, at every position:
 *      overlapping occurrences count separately ("aaa" has the pair (a, a) twice);
 *   2. choose the pair with the highest count; among equal counts the smallest
 *      (a, b): the smallest a, then the smallest b;
 *   3. stop if that count is below 2 (a pair seen once is memorised, not learned) or
 *      if vocab_size ids exist; otherwise the pair becomes merge r = the number of
 *      merges so far, with the new id 256 + r;
 *   4. replace its occurrences left to right without overlap ("aaa" -> [aa, a]).
 * The result is the same on every machine. Training may stop short of vocab_size:
 * tt_bpe_vocab_size says how many ids there are.
 * Errors: TT_ERR_INVALID_ARG (out or corpus NULL; vocab_size below 256 or above
 * INT32_MAX), TT_ERR_NOMEM. */
tt_status tt_bpe_train(tt_bpe **out, const char *corpus, size_t len, size_t vocab_size);

void tt_bpe_free(tt_bpe *bpe);

/* 256 + the number of merges; 0 for NULL. */
size_t tt_bpe_vocab_size(const tt_bpe *bpe);
size_t tt_bpe_merge_count(const tt_bpe *bpe);

/* The pair merged by merge `rank` (which made id 256 + rank).
 * Errors: TT_ERR_INVALID_ARG (NULL), TT_ERR_RANGE (rank >= merge count). */
tt_status tt_bpe_merge(const tt_bpe *bpe, size_t rank, int32_t *left, int32_t *right);

/* The bytes a token stands for (borrowed from the tokenizer, *len of them, not
 * NUL-terminated): one byte for ids below 256, the concatenation of its pair's bytes
 * for a merged id. Errors: TT_ERR_INVALID_ARG (NULL), TT_ERR_RANGE (id outside the
 * vocabulary). */
tt_status tt_bpe_token_bytes(const char **bytes, size_t *len, const tt_bpe *bpe, int32_t id);

/* Encode text: its bytes as ids 0..255, then the merges applied in rank order
 * (merge 0 first), each to the whole sequence, left to right without overlap, as in
 * training. (Equivalently: repeatedly merge the adjacent pair of lowest rank.) The
 * training corpus encodes to exactly the sequence training ended with. *count <= len.
 * Errors: TT_ERR_INVALID_ARG, TT_ERR_NOMEM. */
tt_status tt_bpe_encode(int32_t **ids, size_t *count, const tt_bpe *bpe, const char *text,
                        size_t len);

/* The concatenated bytes of the ids, NUL-terminated as for the character tokenizer:
 * decode(encode(t)) == t for every byte string t.
 * Errors: TT_ERR_RANGE (an id outside [0, vocab_size), naming it and its position),
 * TT_ERR_INVALID_ARG, TT_ERR_NOMEM. */
tt_status tt_bpe_decode(char **text, size_t *len, const tt_bpe *bpe, const int32_t *ids,
                        size_t count);

#ifdef __cplusplus
}
#endif

#endif /* TINYTORCH_TOKENIZATION_H */
