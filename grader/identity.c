/*
 * A student's leaderboard identity on disk (grader/identity.h): one JSON file, mode
 * 0600 in a folder of mode 0700, holding the key's 32-byte seed (the rest of the key
 * pair is derived from it) and what the server said at enrollment.
 */
#define _POSIX_C_SOURCE 200809L

#include "identity.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

tt_status tito_identity_dir(char *buf, size_t size)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    /* The XDG spec says a relative XDG_CONFIG_HOME is invalid and to be ignored. */
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, size, "%s/tito", xdg);
    else if (home && *home)
        n = snprintf(buf, size, "%s/.config/tito", home);
    else
        return tt_error_set(TT_ERR_STATE, "neither XDG_CONFIG_HOME nor HOME is set: tito does not know where to "
                                          "keep your key");
    if (n < 0 || (size_t)n >= size)
        return tt_error_set(TT_ERR_IO, "the configuration folder's path is too long");
    return TT_OK;
}

tt_status tito_identity_path(char *buf, size_t size)
{
    char dir[4096];
    tt_status st = tito_identity_dir(dir, sizeof dir);
    if (st != TT_OK)
        return st;
    int n = snprintf(buf, size, "%s/" TITO_IDENTITY_FILE, dir);
    if (n < 0 || (size_t)n >= size)
        return tt_error_set(TT_ERR_IO, "the identity file's path is too long");
    return TT_OK;
}

tt_status tito_url_normalize(char *buf, size_t size, const char *url)
{
    size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (!scheme)
        return tt_error_set(TT_ERR_INVALID_ARG, "leaderboard URL \"%s\": expected http:// or https:// and a host",
                            url);
    size_t len = strcspn(url, "?#");
    while (len > scheme && url[len - 1] == '/')
        len--;
    size_t host_len = strcspn(url + scheme, "/");
    if (host_len == 0 || host_len > len - scheme)
        return tt_error_set(TT_ERR_INVALID_ARG, "leaderboard URL \"%s\": no host", url);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= ' ' || c >= 0x7F || (i >= scheme && i < scheme + host_len && c == '@'))
            return tt_error_set(TT_ERR_INVALID_ARG, "leaderboard URL \"%s\": %s", url,
                                c == '@' ? "no user or password in the URL, please" : "unexpected character");
    }
    if (len >= size)
        return tt_error_set(TT_ERR_INVALID_ARG, "leaderboard URL too long (at most %zu characters)", size - 1);
    memcpy(buf, url, len);
    buf[len] = '\0';
    return TT_OK;
}

tt_status tito_identity_new(tito_identity **out, const char *url)
{
    *out = NULL;
    tito_identity *id = calloc(1, sizeof *id);
    if (!id)
        return tt_error_set(TT_ERR_NOMEM, "tito_identity_new: no memory");
    tt_status st = tito_url_normalize(id->url, sizeof id->url, url);
    if (st == TT_OK)
        st = tito_keypair_generate(&id->keys);
    if (st != TT_OK) {
        tito_identity_free(id);
        return st;
    }
    tito_key_id(id->key_id, id->keys.public_key);
    *out = id;
    return TT_OK;
}

void tito_identity_free(tito_identity *id)
{
    if (!id)
        return;
    sodium_memzero(id, sizeof *id);
    free(id);
}

/* ---------------------------------------------------------------- reading */

static tt_status field_string(json_t *root, const char *name, char *dst, size_t size, bool required,
                              const char *path)
{
    json_t *v = json_object_get(root, name);
    if (!v && !required) {
        dst[0] = '\0';
        return TT_OK;
    }
    if (!json_is_string(v) || json_string_length(v) >= size)
        return tt_error_set(TT_ERR_FORMAT, "identity file %s: %s: %s", path, name,
                            !v ? "missing" : json_is_string(v) ? "too long" : "expected a string");
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return TT_OK;
}

tt_status tito_identity_load(tito_identity **out, bool *found)
{
    *out = NULL;
    *found = false;
    char path[4200];
    tt_status st = tito_identity_path(path, sizeof path);
    if (st != TT_OK)
        return st;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return TT_OK;
        return tt_error_set(TT_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    }
    if (sb.st_mode & 077)
        return tt_error_set(TT_ERR_STATE, "%s holds your private key but others may read it (mode %04o): run "
                                          "`chmod 600 %s`, or `tito logout` and log in again with a new token",
                            path, (unsigned)(sb.st_mode & 07777), path);
    char *text = NULL;
    size_t len = 0;
    json_t *root = NULL;
    tito_identity *id = NULL;
    unsigned char *seed = NULL;
    size_t seed_len = 0;
    TT_CHECK(tito_file_read(&text, &len, path));
    json_error_t jerr;
    root = json_loadb(text, len, 0, &jerr);
    if (!json_is_object(root)) {
        st = tt_error_set(TT_ERR_FORMAT, "identity file %s: not JSON (%s); `tito logout` removes it", path,
                          root ? "not an object" : jerr.text);
        goto cleanup;
    }
    json_t *schema = json_object_get(root, "schema");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), TITO_IDENTITY_SCHEMA) != 0) {
        st = tt_error_set(TT_ERR_FORMAT, "identity file %s: schema: expected \"%s\"", path, TITO_IDENTITY_SCHEMA);
        goto cleanup;
    }
    id = calloc(1, sizeof *id);
    if (!id) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_identity_load: no memory");
        goto cleanup;
    }
    char seed_text[128];
    TT_CHECK(field_string(root, "url", id->url, sizeof id->url, true, path));
    TT_CHECK(field_string(root, "course", id->course_id, sizeof id->course_id, false, path));
    TT_CHECK(field_string(root, "course_title", id->course_title, sizeof id->course_title, false, path));
    TT_CHECK(field_string(root, "name", id->name, sizeof id->name, false, path));
    TT_CHECK(field_string(root, "enrolled_at", id->enrolled_at, sizeof id->enrolled_at, false, path));
    TT_CHECK(field_string(root, "secret_seed", seed_text, sizeof seed_text, true, path));
    json_t *enrolled = json_object_get(root, "enrolled");
    if (!json_is_boolean(enrolled)) {
        st = tt_error_set(TT_ERR_FORMAT, "identity file %s: enrolled: expected true or false", path);
        goto cleanup;
    }
    id->enrolled = json_is_true(enrolled);
    st = tito_base64_decode(&seed, &seed_len, seed_text, strlen(seed_text));
    sodium_memzero(seed_text, sizeof seed_text);
    if (st != TT_OK || seed_len != 32) {
        st = tt_error_set(TT_ERR_FORMAT, "identity file %s: secret_seed: expected the base64 of 32 bytes", path);
        goto cleanup;
    }
    TT_CHECK(tito_keypair_from_seed(&id->keys, seed));
    tito_key_id(id->key_id, id->keys.public_key);
    *out = id;
    *found = true;
    id = NULL;
cleanup:
    if (seed)
        sodium_memzero(seed, seed_len);
    free(seed);
    if (text)
        sodium_memzero(text, len);
    free(text);
    json_decref(root);
    tito_identity_free(id);
    return st;
}

/* ---------------------------------------------------------------- writing */

/* The folder, 0700: created with its parents when missing, tightened when it exists. */
static tt_status private_dir(const char *dir)
{
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        tt_status st = tito_mkdirs(parent);
        if (st != TT_OK)
            return st;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return tt_error_set(TT_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return tt_error_set(TT_ERR_IO, "%s is not a folder", dir);
    if ((sb.st_mode & 077) && chmod(dir, 0700) != 0)
        return tt_error_set(TT_ERR_IO, "cannot make %s private (chmod 700): %s", dir, strerror(errno));
    return TT_OK;
}

tt_status tito_identity_save(const tito_identity *id)
{
    char dir[4096], path[4200];
    tt_status st = tito_identity_dir(dir, sizeof dir);
    char *seed = NULL, *pub = NULL, *text = NULL;
    json_t *root = NULL;
    if (st != TT_OK)
        return st;
    snprintf(path, sizeof path, "%s/" TITO_IDENTITY_FILE, dir);
    TT_CHECK(private_dir(dir));
    TT_CHECK(tito_base64_encode(&seed, NULL, id->keys.secret_key, 32));
    TT_CHECK(tito_base64_encode(&pub, NULL, id->keys.public_key, TITO_PUBLIC_KEY_BYTES));
    root = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "schema", TITO_IDENTITY_SCHEMA, "url",
                     id->url, "enrolled", id->enrolled, "course", id->course_id, "course_title", id->course_title,
                     "name", id->name, "enrolled_at", id->enrolled_at, "key_id", id->key_id, "public_key", pub,
                     "secret_seed", seed);
    text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
    if (!text) {
        st = tt_error_set(TT_ERR_NOMEM, "tito_identity_save: no memory (or a field is not UTF-8)");
        goto cleanup;
    }
    /* tito_file_write_atomic makes its temporary with mkstemp (0600), so the secret is
     * never readable by others, not even for a moment. */
    TT_CHECK(tito_file_write_atomic(path, text, strlen(text), 0600));
cleanup:
    if (seed)
        sodium_memzero(seed, strlen(seed));
    if (text)
        sodium_memzero(text, strlen(text));
    free(seed);
    free(pub);
    free(text);
    json_decref(root);
    return st;
}

tt_status tito_identity_remove(bool *removed)
{
    *removed = false;
    char path[4200];
    tt_status st = tito_identity_path(path, sizeof path);
    if (st != TT_OK)
        return st;
    if (unlink(path) != 0) {
        if (errno == ENOENT)
            return TT_OK;
        return tt_error_set(TT_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    }
    *removed = true;
    return TT_OK;
}
