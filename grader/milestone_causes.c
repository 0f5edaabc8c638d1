/*
 * grader/milestone_causes.c: why a milestone was missed, in words a student can act on
 * (tito_milestone_causes, tito_milestone_shortfall in milestone.h). The symptoms and
 * their causes are the table of docs/milestones.md ("When a milestone fails"), measured
 * with the broken frameworks of tests/milestones/mutants.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "milestone.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *tito_milestone_shortfall(char *buf, size_t size, const tito_milestone_bar *b,
                                     double value)
{
    if (!isfinite(value)) {
        snprintf(buf, size, "not a number");
        return buf;
    }
    bool above = strcmp(b->comparison, "<=") == 0;
    double gap = above ? value - b->bar : b->bar - value;
    if (gap < 0)
        gap = 0;
    if (tito_milestone_metric_is_accuracy(b->metric))
        snprintf(buf, size, "%.1f points %s", 100.0 * gap, above ? "over" : "short");
    else
        snprintf(buf, size, "%.3g %s", gap, above ? "over" : "short");
    return buf;
}

/* What a model that learned nothing gets on the test split, from its loss: binary
 * cross-entropy is two balanced classes; the course's cross-entropy classifiers read the
 * ten digits. */
static double chance_of(const tito_milestone_model *mod)
{
    return mod && strcmp(mod->loss, "cross_entropy") == 0 ? 0.1 : 0.5;
}

/* The symptoms of docs/milestones.md's table, in its words. */
static const char cause_not_written[] =
    "a function of a module in this milestone's range is not written yet, or returned an "
    "error: the program's message above names it (with file and line); `tito module test` "
    "on that module shows which checks fail";
static const char cause_crash[] =
    "a memory error in your modules (a bad pointer, a double free, an overflowing buffer): "
    "`tito grade` on each module of the range runs Valgrind and names the line";
static const char cause_slow[] =
    "an endless loop, or an operation far slower than it should be (a matmul through "
    "tt_tensor_get, a copy in an inner loop): `tito grade` on each module shows its speed";
static const char cause_memory[] =
    "memory that grows every step: tensors of each batch never freed (a leak in a loop), "
    "or a graph that is never released after backward";
static const char cause_nan[] =
    "numerical overflow (a loss or a measurement that is not a number): module 02's "
    "sigmoid for large |x| (the stable form), module 04's BCE clamping and cross-entropy's "
    "log-sum-exp";
static const char cause_no_gradient[] =
    "no gradient reaches any weight (every weight tensor kept its initial value): "
    "tt_backward (module 05) never runs or stops early, or the ops forget to record "
    "themselves (each ends with tt_autograd_record); tt_train_step (module 07) must call "
    "backward before the optimizer's step";
static const char cause_cut_graph[] =
    "the graph is cut after the first layer (some weight tensor never moved while the "
    "others learned): one op (an activation, a reshape) makes a fresh tensor without "
    "recording itself, so the layers before it never learn. After one tt_train_step, "
    "the first Linear's weight must have a .grad";
static const char cause_wrong_sign[] =
    "gradients with the wrong sign (gradient ascent: the loss climbs from the first epoch "
    "on and the accuracy ends at or below chance): a backward function's sign in module 05 "
    "(sub, matmul, sigmoid, tanh, BCE, cross-entropy), or an optimizer that adds lr * grad "
    "instead of subtracting it (module 06)";
static const char cause_piling_up[] =
    "gradients pile up from step to step, or the learning rate is effectively far too "
    "high (the weights grew more than tenfold): tt_optimizer_zero_grad (module 06) must "
    "zero every parameter's grad and tt_train_step zero them before the forward; the "
    "update is p -= lr * v (Adam: bias correction 1 - beta^t with t from 1)";
static const char cause_too_small[] =
    "the update barely moves the weights (less than 1% over the whole training): a "
    "learning rate far too small (is lr read from the options?), or an update applied to a "
    "copy instead of the parameter tensors in place";
static const char cause_single_layer[] =
    "one linear layer cannot beat 75% on XOR: the \"single layer\" is not one. Sequential "
    "(module 03) must run every layer appended, in order, and Linear compute x W + b";
static const char cause_peeking[] =
    "the model sees what it is asked to predict (a loss below what any model can learn "
    "from the past alone, while generating, which has no future to read, fails): the "
    "causal mask is missing, inverted or ignored. tt_causal_mask (module 12) must allow "
    "query i only the keys j <= i, tt_masked_softmax give blocked keys a weight of "
    "exactly 0, and the GPT (module 13) pass its mask to every block";
static const char cause_disagree[] =
    "your program's own measurement disagrees with the reference's measurement of the very "
    "parameters it trained (under the bar): your forward pass is not the one the modules "
    "specify. Look at evaluation mode (tt_layer_set_training: Dropout off, BatchNorm's "
    "running statistics), at the order of tt_layer_parameters, and at tt_evaluate (module "
    "07); `tito grade` on the modules of the range shows which part differs";
static const char cause_not_enough[] =
    "your modules train, but not as well as the reference (compare the epochs above with "
    "its figures): `tito grade` on each module of the range localises what differs; the "
    "milestone says only that the parts do not yet work together";

size_t tito_milestone_causes(const char **causes, size_t max, const tito_milestone_result *r)
{
    size_t n = 0;
#define ADD(c)                                                                               \
    do {                                                                                     \
        if (n < max)                                                                         \
            causes[n++] = (c);                                                               \
    } while (0)
    if (r->outcome == TITO_MILESTONE_REACHED || r->outcome == TITO_MILESTONE_NOT_BUILT)
        return 0;
    const tito_milestone_report *s = &r->student;
    if (r->outcome == TITO_MILESTONE_NO_RESULT) {
        switch (s->end) {
        case TITO_SANDBOX_SIGNALED: ADD(cause_crash); break;
        case TITO_SANDBOX_TIMEOUT:
        case TITO_SANDBOX_CPU_LIMIT: ADD(cause_slow); break;
        case TITO_SANDBOX_MEMORY_LIMIT: ADD(cause_memory); break;
        case TITO_SANDBOX_EXITED:
            if (s->exit_code == 6 || (s->stderr_tail && strstr(s->stderr_tail, "not implemented")))
                ADD(cause_not_written);
            else if (s->exit_code == 5)
                ADD(cause_memory);
            break;
        default: break;
        }
        return n;
    }

    /* The run's own figures that the reference's measurement of its parameters
     * contradicts: a loss it measured far under the reference's is a model that reads
     * its answers (the reference's forward has the causal mask), which explains the
     * rest; any other difference is a forward pass unlike the specified one, and the
     * symptoms below may say more. */
    bool peeked = false, differs = false;
    for (size_t i = 0; i < r->n_bars; i++) {
        double own = NAN;
        const json_t *claim = json_object_get(s->claimed, r->bars[i].bar.metric);
        if (!claim || !tito_milestone_number(claim, &own))
            continue;
        differs = true;
        if (strstr(r->bars[i].bar.metric, "loss") && own < 0.5 * r->bars[i].value)
            peeked = true;
    }
    if (peeked) {
        ADD(cause_peeking);
        return n;
    }
    if (differs)
        ADD(cause_disagree);

    /* Missed: read the symptoms from the main accuracy bar and its model's metrics
     * (the bar's metric with "test_accuracy" cut off is the model's prefix). */
    const tito_milestone *m = r->milestone;
    const tito_milestone_bar *acc_bar = NULL;
    for (size_t i = 0; i < m->n_bars && !acc_bar; i++)
        if (strcmp(m->bars[i].comparison, ">=") == 0 &&
            tito_milestone_metric_is_accuracy(m->bars[i].metric))
            acc_bar = &m->bars[i];
    char prefix[64] = "";
    if (acc_bar) {
        const char *at = strstr(acc_bar->metric, "test_accuracy");
        if (at && (size_t)(at - acc_bar->metric) < sizeof prefix)
            snprintf(prefix, sizeof prefix, "%.*s", (int)(at - acc_bar->metric), acc_bar->metric);
    }
    char key[128];
    double acc = NAN, change = NAN, loss = NAN;
    if (acc_bar)
        tito_milestone_metric_value(s, acc_bar->metric, &acc);
    double ref_change = NAN;
    snprintf(key, sizeof key, "%smin_weight_change", prefix);
    tito_milestone_metric_value(s, key, &change);
    tito_milestone_metric_value(&r->reference, key, &ref_change);
    snprintf(key, sizeof key, "%sfinal_loss", prefix);
    tito_milestone_metric_value(s, key, &loss);
    /* The loss over the epochs of that model: gradient ascent makes it climb from the
     * first epoch to the last and never dip below where it started (measured with
     * tests/milestones/mutants.c: x3 to x4000), where gradients that pile up make it
     * dip first or wander. */
    bool climbs = false;
    const tito_milestone_model *model = NULL;
    for (size_t i = 0; i < s->n_models; i++) {
        const tito_milestone_model *mod = &s->models[i];
        char want[80];
        snprintf(want, sizeof want, "%s%s", mod->key, mod->key[0] ? "_" : "");
        if (strcmp(want, prefix) != 0)
            continue;
        model = mod;
        if (mod->n_history < 2)
            continue;
        double first = mod->history[0].loss, last = mod->history[mod->n_history - 1].loss;
        double lo = first, hi = first;
        for (size_t e = 0; e < mod->n_history; e++) {
            double l = mod->history[e].loss;
            lo = l < lo ? l : lo;
            hi = l > hi ? l : hi;
        }
        climbs = isfinite(first) && isfinite(last) && first > 0 && last > 2.0 * first &&
                 lo >= 0.8 * first && last >= 0.8 * hi;
    }
    double chance = chance_of(model);

    if (!isfinite(loss) || (acc_bar && !isfinite(acc)) || !isfinite(change))
        ADD(cause_nan);
    if (isfinite(change) && change < 1e-7) {
        if (isfinite(acc) && acc <= chance + 0.1)
            ADD(cause_no_gradient);
        else
            ADD(cause_cut_graph);
    } else if ((climbs && isfinite(acc) && acc <= chance + 0.1) ||
               (isfinite(acc) && acc < 0.5 * chance)) {
        ADD(cause_wrong_sign);
    } else if (isfinite(change) && change > 10.0) {
        ADD(cause_piling_up);
    } else if (isfinite(change) && change < 0.01 && !(change >= 0.1 * ref_change)) {
        /* Not when the reference moves as little (milestone 5's LayerNorm gains). */
        ADD(cause_too_small);
    }
    /* A floor on a loss (milestones.def) is missed only by a model that reads its
     * answers. */
    for (size_t i = 0; i < r->n_bars; i++)
        if (!r->bars[i].met && strcmp(r->bars[i].bar.comparison, ">=") == 0 &&
            strstr(r->bars[i].bar.metric, "loss"))
            ADD(cause_peeking);
    for (size_t i = 0; i < r->n_bars; i++)
        if (!r->bars[i].met && strcmp(r->bars[i].bar.comparison, "<=") == 0 &&
            strstr(r->bars[i].bar.metric, "single_layer"))
            ADD(cause_single_layer);
    if (n == 0)
        ADD(cause_not_enough);
    return n;
#undef ADD
}

