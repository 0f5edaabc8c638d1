/*
 * grader/dsse.h: signed envelopes (DSSE) with Ed25519 keys, as tito and the course
 * leaderboard exchange them (docs/leaderboard.md, "Signing").
 *
 * An envelope is JSON: {"payloadType", "payload" (base64), "signatures": [{"keyid",
 * "sig" (base64)}]}. The signature covers the pre-authentication encoding of the type
 * and the payload bytes, PAE(type, body) = "DSSEv1 <len> <type> <len> <body>", so
 * neither can be changed or swapped for another without breaking it. A key id is the
 * lowercase hex SHA-256 of the 32-byte public key: a hint for finding the key, never
 * proof of anything.
 *
 * This file depends only on libsodium, Jansson and the core's error machinery, so the
 * leaderboard server compiles it too: both sides agree on the encoding because they
 * run the same code. Nothing here prints; strings and buffers handed out are the
 * caller's (free()).
 */
#ifndef TITO_DSSE_H
#define TITO_DSSE_H

#include <stdbool.h>
#include <stddef.h>

#include "tinytorch/core.h"

#define TITO_DSSE_SUBMISSION_TYPE "application/vnd.tinytorch.submission+json"
#define TITO_DSSE_VERIFICATION_TYPE "application/vnd.tinytorch.verification+json"

#define TITO_PUBLIC_KEY_BYTES 32
#define TITO_SECRET_KEY_BYTES 64 /* libsodium's: the seed followed by the public key */
#define TITO_SIGNATURE_BYTES 64
#define TITO_KEY_ID_CHARS 64 /* hex SHA-256; buffers hold one more for the NUL */

typedef struct tito_keypair {
    unsigned char public_key[TITO_PUBLIC_KEY_BYTES];
    unsigned char secret_key[TITO_SECRET_KEY_BYTES];
} tito_keypair;

/* Initialise libsodium (any number of times, from any thread). Errors: TT_ERR_STATE
 * when the library cannot start (no randomness source). */
tt_status tito_crypto_init(void);

/* A new random key pair. Errors: those of tito_crypto_init. */
tt_status tito_keypair_generate(tito_keypair *out);

/* The key pair of a 32-byte seed (deterministic: for tests and for files that keep only
 * the seed). Errors: those of tito_crypto_init. */
tt_status tito_keypair_from_seed(tito_keypair *out, const unsigned char seed[32]);

/* Erase a key pair's secret (so it does not linger in freed memory). */
void tito_keypair_wipe(tito_keypair *kp);

/* The key id of a public key: 64 lowercase hex digits and a NUL into out. */
void tito_key_id(char out[TITO_KEY_ID_CHARS + 1], const unsigned char public_key[TITO_PUBLIC_KEY_BYTES]);

/* `n` random bytes as 2n lowercase hex digits and a NUL into out (2n + 1 bytes). */
tt_status tito_random_hex(char *out, size_t n);

/* ------------------------------------------------------------ base64 */

/* Standard base64 with padding, NUL-terminated; *len (may be NULL) gets its length.
 * Errors: TT_ERR_NOMEM. */
tt_status tito_base64_encode(char **out, size_t *len, const void *data, size_t n);

/* Decode standard or URL-safe base64, with or without padding (DSSE allows all four).
 * *out is NUL-terminated for convenience; *len gets the byte count. Errors:
 * TT_ERR_FORMAT (not base64), TT_ERR_NOMEM. */
tt_status tito_base64_decode(unsigned char **out, size_t *len, const char *text, size_t text_len);

/* ------------------------------------------------------------ envelopes */

/* PAE(type, body) into a new buffer. Errors: TT_ERR_NOMEM. */
tt_status tito_dsse_pae(unsigned char **out, size_t *len, const char *payload_type, const void *body,
                        size_t body_len);

/* Sign `payload` as `payload_type` with `kp`: the envelope as compact JSON text (one
 * signature, keyid = the key id of kp). Errors: TT_ERR_INVALID_ARG, TT_ERR_NOMEM. */
tt_status tito_dsse_sign(char **out, size_t *len, const char *payload_type, const void *payload,
                         size_t payload_len, const tito_keypair *kp);

typedef struct tito_dsse_signature {
    char *keyid; /* "" when the envelope has none */
    unsigned char sig[TITO_SIGNATURE_BYTES];
} tito_dsse_signature;

typedef struct tito_dsse_envelope {
    char *payload_type;
    unsigned char *payload; /* decoded, NUL-terminated (payload_len excludes the NUL) */
    size_t payload_len;
    tito_dsse_signature *signatures;
    size_t n_signatures; /* at least 1 */
} tito_dsse_envelope;

/* Parse envelope text (`len` bytes). Messages name the field and the reason
 * ("signatures[0].sig: not base64"). Duplicate object keys are refused (two readers
 * must never see two different envelopes in one text). Errors: TT_ERR_FORMAT (not JSON:
 * the message starts with "not JSON"; or not an envelope), TT_ERR_NOMEM. */
tt_status tito_dsse_parse(tito_dsse_envelope **out, const char *text, size_t len);

/* Whether signature `i` of `env` is valid for `public_key` over PAE(type, payload). */
bool tito_dsse_verify(const tito_dsse_envelope *env, size_t i,
                      const unsigned char public_key[TITO_PUBLIC_KEY_BYTES]);

/* NULL does nothing. */
void tito_dsse_free(tito_dsse_envelope *env);

#endif /* TITO_DSSE_H */
