/*
 * grader/verify_milestone.c: checking a milestone claim (verify.h). The student's
 * modules of the milestone's range at the claimed commit go into a folder laid out as
 * a workspace (modules/<slug>/<name>.c) under OUT/milestones/, the milestone runs on
 * them as `tito milestone run` runs it (so the reference measures what they trained),
 * and the claim holds when the run reaches the milestone exactly when the claim says
 * it did. The folder is removed afterwards; the clone stays for the next check.
 */
#define _POSIX_C_SOURCE 200809L

#include "verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsutil.h"
#include "interrupt.h"

static tt_status outcome(tito_claim *c, tito_claim_outcome o, const char *text)
{
    c->outcome = o;
    free(c->message);
    c->message = strdup(text);
    return c->message ? TT_OK : tt_error_set(TT_ERR_NOMEM, "tito_verify_milestone: out of memory");
}

/* The student's file of module `mod` at the claimed commit into root: *ok false, with
 * the claim's outcome set, when the commit does not have it. */
static tt_status put_module(bool *ok, tito_claim *c, const tito_roster_student *who,
                            const tito_verify_options *o, bool fetch, const tito_module *mod,
                            const char *root)
{
    char *source = NULL, *why = NULL, *text = NULL, dir[4400], path[4600];
    size_t len = 0;
    *ok = false;
    tt_status st = tito_batch_source_at(&source, &why, o->out_dir, who, fetch, mod, c->commit);
    if (st != TT_OK)
        return st;
    if (why) {
        st = outcome(c, TITO_CLAIM_NOT_CHECKABLE, why);
        free(why);
        return st;
    }
    snprintf(dir, sizeof dir, "%s/modules/%s", root, mod->slug);
    snprintf(path, sizeof path, "%s/%s.c", dir, mod->name);
    st = tito_mkdirs(dir);
    if (st == TT_OK)
        st = tito_file_read(&text, &len, source); /* the batch's copy, by its path */
    if (st == TT_OK)
        st = tito_file_write_atomic(path, text, len, 0644);
    free(text);
    free(source);
    *ok = st == TT_OK;
    return st;
}

static tt_status check(tito_claim *c, const tito_roster_student *who, const tito_course *course,
                       const tito_kit *kit, const tito_verify_options *o, bool fetch,
                       double *seconds)
{
    const tito_milestone *m = c->milestone;
    char root[4200];
    snprintf(root, sizeof root, "%s/milestones/%s-%.12s-%s", o->out_dir, who->id, c->commit,
             m->slug);
    tito_remove_tree(root);
    tt_status st = tito_mkdirs(root);
    bool ok = st == TT_OK;
    for (int k = m->first_module; ok && k <= m->last_module; k++) {
        const tito_module *mod = tito_module_numbered(k);
        if (mod)
            st = put_module(&ok, c, who, o, fetch && k == m->first_module, mod, root);
    }
    if (!ok) {
        tito_remove_tree(root);
        return st;
    }

    tito_milestone_options mo = TITO_MILESTONE_OPTIONS_INIT;
    mo.timing_trials = 1; /* the verdict, not the time */
    mo.tito_version = o->tito_version;
    if (course && course->mem_mb > 1024)
        mo.memory_mb = course->mem_mb;
    tito_milestone_result *res = NULL;
    if (o->on_milestone)
        o->on_milestone(o->ctx, c, false, 0.0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = tito_milestone_run(&res, kit, m, root, &mo);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    tito_remove_tree(root);
    if (tito_interrupt_caught) {
        tito_milestone_result_free(res);
        return outcome(c, TITO_CLAIM_ERROR, "interrupted");
    }
    if (st != TT_OK) {
        char msg[600];
        snprintf(msg, sizeof msg, "could not be run: %s", tt_error_last());
        return outcome(c, TITO_CLAIM_ERROR, msg);
    }
    c->regraded_reached = res->outcome == TITO_MILESTONE_REACHED;
    char msg[900];
    if (c->regraded_reached == c->reached) {
        c->outcome = TITO_CLAIM_VERIFIED;
    } else {
        char missed[400] = "";
        for (size_t i = 0, len = 0; i < res->n_bars && len < sizeof missed; i++) {
            const tito_milestone_bar_result *b = &res->bars[i];
            if (!b->met)
                len += (size_t)snprintf(missed + len, sizeof missed - len, "%s%s %.4g (bar %s %g)",
                                        len ? ", " : "", b->bar.metric, b->value,
                                        b->bar.comparison, b->bar.bar);
        }
        const char *why = res->outcome == TITO_MILESTONE_NO_RESULT && res->student.problem
                              ? res->student.problem
                          : res->outcome == TITO_MILESTONE_NOT_BUILT && res->build_message
                              ? res->build_message
                              : missed;
        /* The last line the program wrote on stderr names a function not written yet. */
        const char *tail = res->student.stderr_tail ? res->student.stderr_tail : "";
        size_t tail_len = strlen(tail);
        while (tail_len > 0 && tail[tail_len - 1] == '\n')
            tail_len--;
        size_t start = tail_len;
        while (start > 0 && tail[start - 1] != '\n')
            start--;
        int why_len = (int)strcspn(why, "\n");
        snprintf(msg, sizeof msg, "the run: %s%s%.*s%s%.*s", tito_milestone_outcome_name(res->outcome),
                 why_len ? ": " : "", why_len > 400 ? 400 : why_len, why,
                 tail_len > start ? "; it said: " : "", (int)(tail_len - start > 300 ? 300 : tail_len - start),
                 tail + start);
        st = outcome(c, TITO_CLAIM_MISMATCH, msg);
    }
    tito_milestone_result_free(res);
    return st;
}

tt_status tito_verify_milestone(tito_claim *c, const tito_roster_student *who,
                                const tito_course *course, const tito_kit *kit,
                                const tito_verify_options *o, bool fetch)
{
    double seconds = -1.0; /* stays negative when nothing ran */
    tt_status st = check(c, who, course, kit, o, fetch, &seconds);
    if (st == TT_OK && seconds >= 0 && o->on_milestone)
        o->on_milestone(o->ctx, c, true, seconds);
    return st;
}
