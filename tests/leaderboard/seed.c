/*
 * lb-seed DB: a leaderboard database with a believable class, for the browser test
 * and for looking at the page: course tinytorch-c-2026, twelve students (one whose
 * name is markup), module grades 01..08 spread over ten days, milestones 1..3 with
 * their figures, some grades verified and one disputed. Deterministic: the same file
 * every time (a fixed-seed generator, fixed times).
 *
 * It writes through the store's own functions (with "{}" standing in for each
 * envelope: the pages never read envelopes), so the ranking the page shows is the
 * one the server computes. It prints the expected top of the ranking: the first
 * student's name, then how many students there are.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "lb.h"

static unsigned long long rng_state = 0x5eed5eedULL;

static unsigned next(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lb-seed DB\n");
        return 2;
    }
    static const char *const names[] = {
        "Ada Lovelace",   "Alan Turing",   "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth",
        "Frances Allen",  "John Backus",   "Radia Perlman", "Ken Thompson",   "Margaret Hamilton",
        "<img src=x onerror=alert(1)> Mallory",
    };
    static const char *const modules[] = {"01_tensor",     "02_activations", "03_layers",   "04_losses",
                                          "05_autograd",   "06_optimizers",  "07_training", "08_dataloader"};
    static const char *const milestones[] = {"01_perceptron", "02_xor", "03_mlp"};
    const size_t n_students = sizeof names / sizeof names[0];
    lb_store *store = NULL;
    if (lb_store_open(&store, argv[1]) != TT_OK || lb_course_create(store, "tinytorch-c-2026", "TinyTorch-C 2026", 0.8) != TT_OK) {
        fprintf(stderr, "lb-seed: %s\n", tt_error_last());
        lb_store_close(store);
        return 1;
    }
    const time_t start = 1795219200; /* 2026-11-21T00:00:00Z */
    char keys[16][TITO_KEY_ID_CHARS + 1];
    int best = -1;
    long best_total = -1;
    long seq = 0;
    for (size_t s = 0; s < n_students; s++) {
        unsigned char seed[32];
        memset(seed, (int)s + 1, sizeof seed);
        tito_keypair kp;
        char token[32];
        snprintf(token, sizeof token, "tlb_seed_%zu", s);
        lb_enroll_outcome out;
        lb_student st;
        lb_course c;
        if (tito_keypair_from_seed(&kp, seed) != TT_OK || lb_token_add(store, "tinytorch-c-2026", token, "", 0) != TT_OK ||
            lb_enroll(store, token, kp.public_key, names[s], start, &out, &st, &c) != TT_OK || out != LB_ENROLLED) {
            fprintf(stderr, "lb-seed: enrolling %s: %s\n", names[s], tt_error_last());
            lb_store_close(store);
            return 1;
        }
        snprintf(keys[s], sizeof keys[s], "%s", st.key_id);
        /* Stronger students get further: Ada all eight modules, the last ones fewer. */
        size_t reach = 8 - (s * 7) / n_students;
        long total = 0;
        for (size_t m = 0; m < reach; m++) {
            long best_here = -1;
            /* Edsger's first module has one attempt, which the instructor disputes below. */
            unsigned attempts = s == 2 && m == 0 ? 1 : 1 + next(3);
            for (unsigned k = 0; k < attempts; k++) {
                lb_submission sub;
                memset(&sub, 0, sizeof sub);
                snprintf(sub.key_id, sizeof sub.key_id, "%s", st.key_id);
                snprintf(sub.id, sizeof sub.id, "%032lx", ++seq);
                snprintf(sub.course_id, sizeof sub.course_id, "tinytorch-c-2026");
                snprintf(sub.kind, sizeof sub.kind, "module");
                snprintf(sub.subject, sizeof sub.subject, "%s", modules[m]);
                snprintf(sub.mode, sizeof sub.mode, "grade");
                snprintf(sub.commit, sizeof sub.commit, "%08lx%08zx", seq * 2654435761UL % 0xffffffffUL, m);
                sub.has_score = true;
                sub.possible = 100;
                sub.earned = (long)(100 - s * 3 - next(25)) + (long)k * 6;
                if (sub.earned > 100)
                    sub.earned = 100;
                if (sub.earned < 0)
                    sub.earned = 0;
                sub.reached = -1;
                time_t when = start + (time_t)(m * 86400 + next(86400) + k * 3600 + s * 600);
                lb_time_format(sub.created_at, when);
                json_t *ack = NULL;
                bool dup = false;
                if (lb_submission_store(store, &sub, "{}", 2, when, &ack, &dup) != TT_OK) {
                    fprintf(stderr, "lb-seed: %s\n", tt_error_last());
                    lb_store_close(store);
                    return 1;
                }
                json_decref(ack);
                if (sub.earned > best_here)
                    best_here = sub.earned;
                /* The instructor reproduces the first grade of the top three students. */
                if (s < 3 && k == 0) {
                    lb_verification v;
                    memset(&v, 0, sizeof v);
                    snprintf(v.id, sizeof v.id, "%032lx", seq + 100000);
                    snprintf(v.course_id, sizeof v.course_id, "tinytorch-c-2026");
                    snprintf(v.student, sizeof v.student, "%s", st.key_id);
                    snprintf(v.kind, sizeof v.kind, "module");
                    snprintf(v.subject, sizeof v.subject, "%s", modules[m]);
                    snprintf(v.commit, sizeof v.commit, "%s", sub.commit);
                    v.earned = sub.earned - (s == 2 && m == 0 ? 10 : 0); /* one disputed */
                    v.possible = 100;
                    v.reached = -1;
                    if (lb_verification_store(store, &v, "{}", 2, when + 86400, &ack, &dup) == TT_OK)
                        json_decref(ack);
                }
            }
            total += best_here;
        }
        size_t reached = reach >= 7 ? 3 : reach >= 4 ? 2 : reach >= 2 ? 1 : 0;
        for (size_t m = 0; m < 3; m++) {
            lb_submission sub;
            memset(&sub, 0, sizeof sub);
            snprintf(sub.key_id, sizeof sub.key_id, "%s", st.key_id);
            snprintf(sub.id, sizeof sub.id, "%032lx", ++seq);
            snprintf(sub.course_id, sizeof sub.course_id, "tinytorch-c-2026");
            snprintf(sub.kind, sizeof sub.kind, "milestone");
            snprintf(sub.subject, sizeof sub.subject, "%s", milestones[m]);
            sub.reached = m < reached;
            if (m >= reached && m > reached)
                continue; /* never tried */
            char metrics[128];
            snprintf(metrics, sizeof metrics, "{\"test_accuracy\":%.3f,\"train_seconds\":%.2f}",
                     m < reached ? 0.9 + 0.01 * (double)next(9) : 0.6 + 0.01 * (double)next(20),
                     0.05 + 0.01 * (double)next(50));
            sub.metrics = metrics;
            time_t when = start + (time_t)(86400 * (3 + 2 * m) + next(86400));
            lb_time_format(sub.created_at, when);
            json_t *ack = NULL;
            bool dup = false;
            if (lb_submission_store(store, &sub, "{}", 2, when, &ack, &dup) == TT_OK)
                json_decref(ack);
        }
        if (total > best_total) {
            best_total = total;
            best = (int)s;
        }
    }
    lb_store_close(store);
    printf("%s\n%zu\n", names[best], n_students);
    return 0;
}
