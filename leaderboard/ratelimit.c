/*
 * A token bucket per key, in memory: each key earns `rate` tokens a second up to
 * `burst`, and a submission takes one. Only keys whose signature verified get here, so
 * the table grows with enrolled students, never with what strangers send; it is
 * forgotten on restart, which only ever makes a limit more generous.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

typedef struct bucket {
    char key[TITO_KEY_ID_CHARS + 1]; /* "" for an empty slot */
    double tokens;
    double at; /* when `tokens` was last brought up to date */
} bucket;

struct lb_ratelimit {
    double rate, burst;
    bucket *slots; /* open addressing, linear probing; at most half full */
    size_t cap, used;
    pthread_mutex_t lock;
};

tt_status lb_ratelimit_new(lb_ratelimit **out, double rate, double burst)
{
    *out = NULL;
    lb_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return tt_error_set(TT_ERR_NOMEM, "lb_ratelimit_new: no memory");
    rl->rate = rate;
    rl->burst = burst < 1 ? 1 : burst;
    rl->cap = 64;
    rl->slots = calloc(rl->cap, sizeof *rl->slots);
    if (!rl->slots) {
        free(rl);
        return tt_error_set(TT_ERR_NOMEM, "lb_ratelimit_new: no memory");
    }
    pthread_mutex_init(&rl->lock, NULL);
    *out = rl;
    return TT_OK;
}

void lb_ratelimit_free(lb_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl->slots);
    free(rl);
}

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bucket *slot_for(bucket *slots, size_t cap, const char *key)
{
    size_t i = hash(key) & (cap - 1);
    while (slots[i].key[0] && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static bool grow(lb_ratelimit *rl)
{
    size_t cap = rl->cap * 2;
    bucket *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < rl->cap; i++)
        if (rl->slots[i].key[0])
            *slot_for(slots, cap, rl->slots[i].key) = rl->slots[i];
    free(rl->slots);
    rl->slots = slots;
    rl->cap = cap;
    return true;
}

bool lb_ratelimit_take(lb_ratelimit *rl, const char *key, double now, int *retry_after)
{
    *retry_after = 0;
    if (rl->rate <= 0)
        return true;
    pthread_mutex_lock(&rl->lock);
    bool ok = true;
    if (2 * (rl->used + 1) > rl->cap && !grow(rl)) {
        /* No memory for another bucket: let it through rather than refuse everyone. */
        pthread_mutex_unlock(&rl->lock);
        return true;
    }
    bucket *b = slot_for(rl->slots, rl->cap, key);
    if (!b->key[0]) {
        memcpy(b->key, key, strnlen(key, TITO_KEY_ID_CHARS));
        b->tokens = rl->burst;
        b->at = now;
        rl->used++;
    }
    b->tokens = fmin(rl->burst, b->tokens + (now - b->at) * rl->rate);
    b->at = now;
    if (b->tokens >= 1) {
        b->tokens -= 1;
    } else {
        ok = false;
        *retry_after = (int)ceil((1 - b->tokens) / rl->rate);
        if (*retry_after < 1)
            *retry_after = 1;
    }
    pthread_mutex_unlock(&rl->lock);
    return ok;
}
