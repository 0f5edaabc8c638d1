/*
 * DSSE envelopes and Ed25519 keys (grader/dsse.h). Shared, as source, by tito and the
 * leaderboard server: what one signs the other verifies with the same bytes.
 */
#include "dsse.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tt_status tito_crypto_init(void)
{
    if (sodium_init() < 0)
        return tt_error_set(TT_ERR_STATE, "tito_crypto_init: libsodium cannot start (no source of "
                                          "randomness?)");
    return TT_OK;
}

tt_status tito_keypair_generate(tito_keypair *out)
{
    tt_status st = tito_crypto_init();
    if (st != TT_OK)
        return st;
    if (crypto_sign_keypair(out->public_key, out->secret_key) != 0)
        return tt_error_set(TT_ERR_STATE, "tito_keypair_generate: libsodium refused to make a key");
    return TT_OK;
}

tt_status tito_keypair_from_seed(tito_keypair *out, const unsigned char seed[32])
{
    tt_status st = tito_crypto_init();
    if (st != TT_OK)
        return st;
    if (crypto_sign_seed_keypair(out->public_key, out->secret_key, seed) != 0)
        return tt_error_set(TT_ERR_STATE, "tito_keypair_from_seed: libsodium refused the seed");
    return TT_OK;
}

void tito_keypair_wipe(tito_keypair *kp)
{
    if (kp)
        sodium_memzero(kp->secret_key, sizeof kp->secret_key);
}

void tito_key_id(char out[TITO_KEY_ID_CHARS + 1], const unsigned char public_key[TITO_PUBLIC_KEY_BYTES])
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, public_key, TITO_PUBLIC_KEY_BYTES);
    sodium_bin2hex(out, TITO_KEY_ID_CHARS + 1, hash, sizeof hash);
}

tt_status tito_random_hex(char *out, size_t n)
{
    tt_status st = tito_crypto_init();
    if (st != TT_OK)
        return st;
    unsigned char buf[64];
    if (n > sizeof buf)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_random_hex: at most %zu bytes, asked for %zu",
                            sizeof buf, n);
    randombytes_buf(buf, n);
    sodium_bin2hex(out, 2 * n + 1, buf, n);
    return TT_OK;
}

/* ---------------------------------------------------------------- base64 */

tt_status tito_base64_encode(char **out, size_t *len, const void *data, size_t n)
{
    *out = NULL;
    size_t size = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc(size);
    if (!text)
        return tt_error_set(TT_ERR_NOMEM, "tito_base64_encode: no memory for %zu bytes", size);
    sodium_bin2base64(text, size, data, n, sodium_base64_VARIANT_ORIGINAL);
    if (len)
        *len = strlen(text);
    *out = text;
    return TT_OK;
}

tt_status tito_base64_decode(unsigned char **out, size_t *len, const char *text, size_t text_len)
{
    *out = NULL;
    *len = 0;
    size_t size = text_len / 4 * 3 + 4;
    unsigned char *bin = malloc(size);
    if (!bin)
        return tt_error_set(TT_ERR_NOMEM, "tito_base64_decode: no memory for %zu bytes", size);
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                   sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        size_t n = 0;
        /* b64_end NULL: any character outside the alphabet fails the whole text. */
        if (sodium_base642bin(bin, size - 1, text, text_len, NULL, &n, NULL, variants[v]) == 0) {
            bin[n] = '\0';
            *out = bin;
            *len = n;
            return TT_OK;
        }
    }
    free(bin);
    return tt_error_set(TT_ERR_FORMAT, "not base64 (standard or URL-safe)");
}

/* ---------------------------------------------------------------- envelopes */

tt_status tito_dsse_pae(unsigned char **out, size_t *len, const char *payload_type, const void *body,
                        size_t body_len)
{
    *out = NULL;
    size_t type_len = strlen(payload_type);
    char head[64], mid[32];
    int h = snprintf(head, sizeof head, "DSSEv1 %zu ", type_len);
    int m = snprintf(mid, sizeof mid, " %zu ", body_len);
    size_t total = (size_t)h + type_len + (size_t)m + body_len;
    unsigned char *buf = malloc(total + 1);
    if (!buf)
        return tt_error_set(TT_ERR_NOMEM, "tito_dsse_pae: no memory for %zu bytes", total);
    unsigned char *p = buf;
    memcpy(p, head, (size_t)h);
    p += h;
    memcpy(p, payload_type, type_len);
    p += type_len;
    memcpy(p, mid, (size_t)m);
    p += m;
    if (body_len)
        memcpy(p, body, body_len);
    buf[total] = '\0';
    *out = buf;
    *len = total;
    return TT_OK;
}

tt_status tito_dsse_sign(char **out, size_t *len, const char *payload_type, const void *payload,
                         size_t payload_len, const tito_keypair *kp)
{
    *out = NULL;
    if (!payload_type || !*payload_type || (!payload && payload_len) || !kp)
        return tt_error_set(TT_ERR_INVALID_ARG, "tito_dsse_sign: a payload type, a payload and a key "
                                                "are needed");
    tt_status st = tito_crypto_init();
    unsigned char *pae = NULL;
    char *payload_b64 = NULL, *sig_b64 = NULL, *text = NULL;
    json_t *env = NULL;
    size_t pae_len = 0;
    if (st != TT_OK)
        return st;
    TT_CHECK(tito_dsse_pae(&pae, &pae_len, payload_type, payload, payload_len));
    unsigned char sig[TITO_SIGNATURE_BYTES];
    crypto_sign_detached(sig, NULL, pae, pae_len, kp->secret_key);
    TT_CHECK(tito_base64_encode(&payload_b64, NULL, payload, payload_len));
    TT_CHECK(tito_base64_encode(&sig_b64, NULL, sig, sizeof sig));
    char keyid[TITO_KEY_ID_CHARS + 1];
    tito_key_id(keyid, kp->public_key);
    env = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType", payload_type, "payload", payload_b64,
                    "signatures", "keyid", keyid, "sig", sig_b64);
    text = env ? json_dumps(env, JSON_COMPACT) : NULL;
    if (!text) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_dsse_sign: no memory for the envelope");
        goto cleanup;
    }
    if (len)
        *len = strlen(text);
    *out = text;
cleanup:
    json_decref(env);
    free(pae);
    free(payload_b64);
    free(sig_b64);
    return st;
}

void tito_dsse_free(tito_dsse_envelope *env)
{
    if (!env)
        return;
    for (size_t i = 0; i < env->n_signatures; i++)
        free(env->signatures[i].keyid);
    free(env->signatures);
    free(env->payload_type);
    free(env->payload);
    free(env);
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

tt_status tito_dsse_parse(tito_dsse_envelope **out, const char *text, size_t len)
{
    *out = NULL;
    tt_status st = TT_OK;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    tito_dsse_envelope *env = NULL;
    if (!root)
        return tt_error_set(TT_ERR_FORMAT, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                            jerr.column);
    if (!json_is_object(root)) {
        st = tt_error_set(TT_ERR_FORMAT, "expected a JSON object (a DSSE envelope)");
        goto cleanup;
    }
    json_t *type = json_object_get(root, "payloadType");
    json_t *payload = json_object_get(root, "payload");
    json_t *sigs = json_object_get(root, "signatures");
    if (!json_is_string(type)) {
        st = tt_error_set(TT_ERR_FORMAT, "payloadType: %s", type ? "expected a string" : "missing");
        goto cleanup;
    }
    if (!json_is_string(payload)) {
        st = tt_error_set(TT_ERR_FORMAT, "payload: %s", payload ? "expected a string" : "missing");
        goto cleanup;
    }
    if (!json_is_array(sigs) || json_array_size(sigs) == 0) {
        st = tt_error_set(TT_ERR_FORMAT, "signatures: %s",
                          !sigs ? "missing" : json_is_array(sigs) ? "empty" : "expected an array");
        goto cleanup;
    }
    if (json_array_size(sigs) > 16) {
        st = tt_error_set(TT_ERR_FORMAT, "signatures: %zu of them, at most 16 are read",
                          json_array_size(sigs));
        goto cleanup;
    }
    env = calloc(1, sizeof *env);
    if (!env || !(env->payload_type = dup_string(json_string_value(type))) ||
        !(env->signatures = calloc(json_array_size(sigs), sizeof *env->signatures))) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_dsse_parse: no memory");
        goto cleanup;
    }
    st = tito_base64_decode(&env->payload, &env->payload_len, json_string_value(payload),
                            json_string_length(payload));
    if (st != TT_OK) {
        if (st == TT_ERR_FORMAT)
            tt_error_set(st, "payload: not base64 (standard or URL-safe)");
        goto cleanup;
    }
    for (size_t i = 0; i < json_array_size(sigs); i++) {
        json_t *s = json_array_get(sigs, i);
        if (!json_is_object(s)) {
            st = tt_error_set(TT_ERR_FORMAT, "signatures[%zu]: expected an object", i);
            goto cleanup;
        }
        json_t *keyid = json_object_get(s, "keyid");
        json_t *sig = json_object_get(s, "sig");
        if (keyid && !json_is_string(keyid) && !json_is_null(keyid)) {
            st = tt_error_set(TT_ERR_FORMAT, "signatures[%zu].keyid: expected a string", i);
            goto cleanup;
        }
        if (!json_is_string(sig)) {
            st = tt_error_set(TT_ERR_FORMAT, "signatures[%zu].sig: %s", i,
                              sig ? "expected a string" : "missing");
            goto cleanup;
        }
        unsigned char *raw = NULL;
        size_t raw_len = 0;
        st = tito_base64_decode(&raw, &raw_len, json_string_value(sig), json_string_length(sig));
        if (st != TT_OK) {
            if (st == TT_ERR_FORMAT)
                tt_error_set(st, "signatures[%zu].sig: not base64", i);
            goto cleanup;
        }
        if (raw_len != TITO_SIGNATURE_BYTES) {
            free(raw);
            st = tt_error_set(TT_ERR_FORMAT, "signatures[%zu].sig: %zu bytes, an Ed25519 signature has %d",
                              i, raw_len, TITO_SIGNATURE_BYTES);
            goto cleanup;
        }
        memcpy(env->signatures[i].sig, raw, TITO_SIGNATURE_BYTES);
        free(raw);
        env->signatures[i].keyid = dup_string(json_is_string(keyid) ? json_string_value(keyid) : "");
        env->n_signatures = i + 1;
        if (!env->signatures[i].keyid) {
            st = tt_error_set(TT_ERR_NOMEM, "tito_dsse_parse: no memory");
            goto cleanup;
        }
    }
    *out = env;
    env = NULL;
cleanup:
    json_decref(root);
    tito_dsse_free(env);
    return st;
}

bool tito_dsse_verify(const tito_dsse_envelope *env, size_t i,
                      const unsigned char public_key[TITO_PUBLIC_KEY_BYTES])
{
    if (!env || i >= env->n_signatures || tito_crypto_init() != TT_OK)
        return false;
    unsigned char *pae = NULL;
    size_t pae_len = 0;
    if (tito_dsse_pae(&pae, &pae_len, env->payload_type, env->payload, env->payload_len) != TT_OK)
        return false;
    bool ok = crypto_sign_verify_detached(env->signatures[i].sig, pae, pae_len, public_key) == 0;
    free(pae);
    return ok;
}
