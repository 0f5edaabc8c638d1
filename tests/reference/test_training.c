/*
 * Tests of module 07 (training) against the reference implementation.
 *
 * Values come from tests/fixtures/training.txt (gen_training.py, NumPy): the cosine
 * schedule, global-norm clipping, one SGD step of a Linear model under MSE, and the
 * loss and accuracy of a small classifier. The checkpoint tests are the heart of the
 * file:
 *   - resume: train k steps, save, train k more; versus a differently initialised
 *     model and a fresh optimizer that load the checkpoint and train the same k
 *     steps: parameters, optimizer state and the next checkpoint are identical bytes;
 *   - refusal: every single-byte flip and every truncation of a valid checkpoint, a
 *     wrong magic, a wrong version and invalid fields with a correct CRC, trailing
 *     bytes, a model or optimizer of another shape or kind, a missing file: each is
 *     refused with the documented status and a message saying what was wrong, and the
 *     model and optimizer are byte for byte as they were;
 *   - the file itself is parsed here independently (layout, CRC) to pin the format.
 * Checkpoints go to a private directory made with mkdtemp and removed at the end.
 */
#include "harness.h"
#include "fixtures.h"
#include "helpers.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tinytorch/activations.h"
#include "tinytorch/autograd.h"
#include "tinytorch/losses.h"
#include "tinytorch/training.h"

static fixtures *FX;
static char DIR_PATH[64];

/* ====================================================================== helpers */

static void path_in_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", DIR_PATH, name);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = NULL;
    *size = 0;
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long n = ftell(fp);
        rewind(fp);
        buf = malloc(n > 0 ? (size_t)n : 1);
        if (buf && n >= 0 && fread(buf, 1, (size_t)n, fp) == (size_t)n)
            *size = (size_t)n;
    }
    fclose(fp);
    return buf;
}

static void write_all(const char *path, const unsigned char *buf, size_t size)
{
    FILE *fp = fopen(path, "wb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    CHECK(fwrite(buf, 1, size, fp) == size);
    fclose(fp);
}

/* Entries of the private directory other than . and .. */
static int dir_entries(void)
{
    DIR *d = opendir(DIR_PATH);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

/* An independent bitwise CRC-32 (no table), to check the library's and to forge
 * files with a valid CRC. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Rewrite the trailing CRC of a forged file so that only the intended defect remains. */
static void fix_crc(unsigned char *buf, size_t size)
{
    put_le32(buf + size - 4, crc32_bitwise(buf, size - 4));
}

/* Everything a load could change, as bytes: parameter values, and the optimizer's
 * options, step count, state presence and state values. */
static unsigned char *snapshot(tt_layer *model, const tt_optimizer *opt, size_t *size)
{
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(model, &ps));
    size_t n = 0;
    for (size_t i = 0; i < ps.count; i++)
        n += 3 * tt_tensor_numel(ps.items[i]) * sizeof(float) + 2;
    n += sizeof opt->options + sizeof opt->step_count + 16;
    unsigned char *buf = calloc(1, n), *w = buf;
    for (size_t i = 0; i < ps.count; i++) {
        size_t k = tt_tensor_numel(ps.items[i]);
        CHECK_OK(tt_tensor_to_array(ps.items[i], (float *)(void *)w, k));
        w += k * sizeof(float);
    }
    if (opt) {
        memcpy(w, &opt->options, sizeof opt->options);
        w += sizeof opt->options;
        memcpy(w, &opt->step_count, sizeof opt->step_count);
        w += sizeof opt->step_count;
        for (size_t i = 0; i < opt->n_params; i++) {
            tt_tensor *s[2] = {opt->state1[i], opt->state2[i]};
            for (int j = 0; j < 2; j++) {
                *w++ = s[j] != NULL;
                if (s[j]) {
                    size_t k = tt_tensor_numel(s[j]);
                    CHECK_OK(tt_tensor_to_array(s[j], (float *)(void *)w, k));
                    w += k * sizeof(float);
                }
            }
        }
    }
    *size = (size_t)(w - buf);
    tt_params_release(&ps);
    return buf;
}

static bool same_snapshot(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
    return na == nb && memcmp(a, b, na) == 0;
}

/* Linear(4,8) -> Tanh -> Dropout(0.1, rng) -> Linear(8,3), initialised from `seed`. */
static tt_layer *make_model(uint64_t seed, tt_rng *dropout_rng, size_t hidden)
{
    tt_rng init;
    tt_rng_init(&init, seed);
    tt_layer *seq = NULL, *l1 = NULL, *act = NULL, *drop = NULL, *l2 = NULL;
    CHECK_OK(tt_sequential_new(&seq));
    CHECK_OK(tt_linear_new(&l1, 4, hidden, true, &init));
    CHECK_OK(tt_tanh_layer_new(&act));
    CHECK_OK(tt_dropout_new(&drop, 0.1f, dropout_rng));
    CHECK_OK(tt_linear_new(&l2, hidden, 3, true, &init));
    CHECK_OK(tt_sequential_append(seq, l1));
    CHECK_OK(tt_sequential_append(seq, act));
    CHECK_OK(tt_sequential_append(seq, drop));
    CHECK_OK(tt_sequential_append(seq, l2));
    return seq;
}

static tt_optimizer *make_optimizer(tt_layer *model, tt_optimizer_kind kind)
{
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(model, &ps));
    tt_optimizer_options o = TT_OPTIMIZER_OPTIONS_INIT;
    o.lr = 0.05f;
    o.momentum = kind == TT_OPTIM_SGD ? 0.9f : 0.0f;
    o.weight_decay = kind == TT_OPTIM_SGD ? 0.0f : 0.01f;
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, kind, &ps, &o));
    tt_params_release(&ps);
    return opt;
}

/* 16 samples of 4 features in 3 classes, the class a function of the features. */
typedef struct dataset {
    tt_tensor *x, *y;
} dataset;

static dataset make_data(void)
{
    dataset d = {NULL, NULL};
    tt_rng rng;
    tt_rng_init(&rng, 777);
    float xv[64], yv[16];
    for (int i = 0; i < 16; i++) {
        float s = 0.0f;
        for (int j = 0; j < 4; j++) {
            xv[4 * i + j] = tt_rng_normal(&rng);
            s += xv[4 * i + j] * (float)(j + 1);
        }
        yv[i] = s < -1.0f ? 0.0f : s < 1.0f ? 1.0f : 2.0f;
    }
    CHECK_OK(tt_tensor_from_data(&d.x, 2, TT_SHAPE(16, 4), xv));
    CHECK_OK(tt_tensor_from_data(&d.y, 1, TT_SHAPE(16), yv));
    return d;
}

static void free_data(dataset *d)
{
    tt_tensor_free(d->x);
    tt_tensor_free(d->y);
}

/* Steps [from, to) of a run: batch of 4 rows chosen by the step, cosine schedule with
 * warm-up driven by the optimizer's own step count, clipping at 1. */
static void train_steps(tt_layer *m, tt_optimizer *opt, const dataset *d, int from, int to)
{
    for (int step = from; step < to; step++) {
        CHECK(opt->step_count == step);
        CHECK_OK(tt_optimizer_set_lr(opt, tt_cosine_lr(opt->step_count, 40, 4, 0.05f, 1e-3f)));
        size_t start = (size_t)(step % 4) * 4;
        tt_tensor *xb = NULL, *yb = NULL;
        CHECK_OK(tt_tensor_slice(&xb, d->x, 0, start, start + 4));
        CHECK_OK(tt_tensor_slice(&yb, d->y, 0, start, start + 4));
        float loss = NAN;
        CHECK_OK(tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, xb, yb, 1.0f));
        CHECK(isfinite(loss));
        tt_tensor_free(xb);
        tt_tensor_free(yb);
    }
}

/* ==================================================================== CRC-32 */

static void test_crc32(void)
{
    CHECK(tt_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(tt_crc32(0, "", 0) == 0u);
    CHECK(tt_crc32(0, "a", 1) == 0xE8B7BE43u);
    unsigned char buf[1000];
    tt_rng rng;
    tt_rng_init(&rng, 5);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)tt_rng_next_u32(&rng);
    uint32_t whole = tt_crc32(0, buf, sizeof buf);
    CHECK(whole == crc32_bitwise(buf, sizeof buf));
    /* Chaining: the CRC of a, then b, is the CRC of ab. */
    CHECK(tt_crc32(tt_crc32(0, buf, 333), buf + 333, sizeof buf - 333) == whole);
    buf[500] ^= 0x10;
    CHECK(tt_crc32(0, buf, sizeof buf) != whole);
}

/* ===================================================================== losses */

static void test_loss_compute(void)
{
    tt_tensor *p = fixture_tensor(FX, "step.x"), *t = NULL, *l = NULL, *want = NULL;
    CHECK_OK(tt_tensor_full(&t, 2, TT_SHAPE(4, 3), 0.25f));
    CHECK_OK(tt_loss_compute(&l, TT_LOSS_MSE, p, t));
    CHECK_OK(tt_mse_loss(&want, p, t));
    CHECK(l && want && tt_tensor_data(l)[0] == tt_tensor_data(want)[0]);
    tt_tensor_free(l);
    tt_tensor_free(want);
    tt_tensor *prob = NULL;
    CHECK_OK(tt_sigmoid(&prob, p));
    CHECK_OK(tt_loss_compute(&l, TT_LOSS_BCE, prob, t));
    CHECK_OK(tt_bce_loss(&want, prob, t));
    CHECK(l && want && tt_tensor_data(l)[0] == tt_tensor_data(want)[0]);
    tt_tensor_free(l);
    tt_tensor_free(want);
    tt_tensor *cls = NULL;
    const float cv[4] = {0, 2, 1, 2};
    CHECK_OK(tt_tensor_from_data(&cls, 1, TT_SHAPE(4), cv));
    CHECK_OK(tt_loss_compute(&l, TT_LOSS_CROSS_ENTROPY, p, cls));
    CHECK_OK(tt_cross_entropy_loss(&want, p, cls));
    CHECK(l && want && tt_tensor_data(l)[0] == tt_tensor_data(want)[0]);
    tt_tensor_free(l);
    tt_tensor_free(want);
    l = (tt_tensor *)p;
    CHECK_STATUS(tt_loss_compute(&l, (tt_loss_kind)9, p, t), TT_ERR_INVALID_ARG);
    CHECK(l == NULL);
    CHECK_ERROR_MENTIONS("unknown loss kind 9");
    CHECK_STATUS(tt_loss_compute(&l, TT_LOSS_MSE, NULL, t), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_loss_compute(&l, TT_LOSS_MSE, p, NULL), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_loss_compute(NULL, TT_LOSS_MSE, p, t), TT_ERR_INVALID_ARG);
    /* The loss's own errors come through unchanged. */
    CHECK_STATUS(tt_loss_compute(&l, TT_LOSS_MSE, p, cls), TT_ERR_SHAPE);
    CHECK(l == NULL);
    tt_tensor_free(cls);
    tt_tensor_free(prob);
    tt_tensor_free(p);
    tt_tensor_free(t);
}

/* =================================================================== schedule */

static void test_cosine_schedule(void)
{
    const struct { const char *name; long total, warmup; float base, min; } runs[] = {
        {"plain", 10, 0, 0.1f, 0.0f}, {"warmup", 12, 3, 0.05f, 0.001f},
        {"long", 1000, 100, 3e-4f, 1e-5f}};
    for (int r = 0; r < 3; r++) {
        char sn[64], ln[64];
        snprintf(sn, sizeof sn, "cosine.%s.steps", runs[r].name);
        snprintf(ln, sizeof ln, "cosine.%s.lr", runs[r].name);
        const fixture *steps = fixture_find(FX, sn), *lr = fixture_find(FX, ln);
        CHECK(steps && lr);
        for (size_t i = 0; steps && lr && i < steps->numel; i++) {
            float got = tt_cosine_lr((long)steps->data[i], runs[r].total, runs[r].warmup,
                                     runs[r].base, runs[r].min);
            /* Computed in double and rounded once: the float is exact. */
            CHECK_NEAR(got, lr->data[i], 0.0, 0.0);
        }
    }
    /* The shape of the curve: warm-up rises linearly to base, then it only falls. */
    CHECK(tt_cosine_lr(0, 100, 0, 0.1f, 0.0f) == 0.1f);
    CHECK(tt_cosine_lr(0, 100, 10, 0.1f, 0.0f) == (float)(0.1f / 10.0));
    CHECK(tt_cosine_lr(9, 100, 10, 0.1f, 0.0f) == 0.1f);
    CHECK(tt_cosine_lr(10, 100, 10, 0.1f, 0.0f) == 0.1f);
    float prev = 1.0f;
    for (long s = 10; s < 100; s++) {
        float v = tt_cosine_lr(s, 100, 10, 0.1f, 0.001f);
        CHECK(v <= prev && v > 0.001f);
        prev = v;
    }
    CHECK_NEAR(tt_cosine_lr(55, 100, 10, 0.1f, 0.0f), 0.05, 1e-8, 0.0); /* halfway */
    CHECK(tt_cosine_lr(100, 100, 10, 0.1f, 0.002f) == 0.002f);
    CHECK(tt_cosine_lr(1 << 30, 100, 10, 0.1f, 0.002f) == 0.002f);
    /* Out-of-range arguments are clamped, never a division by zero. */
    CHECK(tt_cosine_lr(-5, 100, 0, 0.1f, 0.0f) == 0.1f);
    CHECK(tt_cosine_lr(0, 100, -3, 0.1f, 0.0f) == 0.1f);
    CHECK(tt_cosine_lr(4, 5, 50, 0.1f, 0.0f) == 0.1f); /* warm-up cut to the run */
    CHECK(tt_cosine_lr(0, 0, 0, 0.1f, 0.01f) == 0.01f);
}

/* =================================================================== clipping */

static void make_clip_params(tt_tensor *p[3], tt_params *ps)
{
    tt_params_init(ps);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "clip.g%d", i);
        tt_tensor *g = fixture_tensor(FX, name);
        p[i] = NULL;
        if (g)
            CHECK_OK(tt_tensor_zeros(&p[i], g->ndim, g->shape));
        if (p[i]) {
            CHECK_OK(tt_tensor_set_requires_grad(p[i], true));
            CHECK_OK(tt_accumulate_grad(p[i], g));
            CHECK_OK(tt_params_push(ps, p[i]));
        }
        tt_tensor_free(g);
    }
}

static void free_clip_params(tt_tensor *p[3], tt_params *ps)
{
    for (int i = 0; i < 3; i++)
        tt_tensor_free(p[i]);
    tt_params_release(ps);
}

static void test_clip_grad_norm(void)
{
    tt_tensor *p[3];
    tt_params ps;
    make_clip_params(p, &ps);
    const fixture *norm = fixture_find(FX, "clip.norm");
    float got = 0.0f;
    CHECK_OK(tt_clip_grad_norm(&got, &ps, 1.5f));
    CHECK(norm != NULL);
    if (norm)
        CHECK_NEAR(got, norm->data[0], 0.0, 1e-7);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "clip.out%d", i);
        /* The norm's double sum may round differently from NumPy's pairwise sum, which
         * can move the float scale by one ulp. */
        check_tensor_near(p[i]->grad, name, 0.0, 5e-7);
    }
    /* Now at the limit: a second call reports ~1.5 and changes nothing. */
    float again = 0.0f;
    CHECK_OK(tt_clip_grad_norm(&again, &ps, 1.5f));
    CHECK_NEAR(again, 1.5, 0.0, 1e-6);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "clip.out%d", i);
        check_tensor_near(p[i]->grad, name, 0.0, 5e-7);
    }
    free_clip_params(p, &ps);

    /* Under the limit (just under, far under, infinite) nothing changes. */
    make_clip_params(p, &ps);
    CHECK_OK(tt_clip_grad_norm(NULL, &ps, 1.01f * got));
    CHECK_OK(tt_clip_grad_norm(NULL, &ps, 1e6f));
    CHECK_OK(tt_clip_grad_norm(NULL, &ps, INFINITY));
    check_tensor_near(p[0]->grad, "clip.g0", 0.0, 0.0);
    /* A parameter without a gradient is skipped. */
    tt_tensor_zero_grad(p[1]);
    float partial = 0.0f;
    CHECK_OK(tt_clip_grad_norm(&partial, &ps, 1e6f));
    CHECK(partial < got && partial > 0.0f);
    CHECK(p[1]->grad == NULL);
    free_clip_params(p, &ps);
}

static void test_clip_errors(void)
{
    tt_tensor *p[3];
    tt_params ps;
    make_clip_params(p, &ps);
    float norm = -1.0f;
    CHECK_STATUS(tt_clip_grad_norm(&norm, &ps, 0.0f), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("max_norm");
    CHECK_STATUS(tt_clip_grad_norm(&norm, &ps, -1.0f), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_clip_grad_norm(&norm, &ps, NAN), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_clip_grad_norm(&norm, NULL, 1.0f), TT_ERR_INVALID_ARG);
    /* An inf in a gradient: reported, nothing scaled (scaling would make nans). */
    tt_tensor_data(p[2]->grad)[3] = INFINITY;
    CHECK_STATUS(tt_clip_grad_norm(&norm, &ps, 1.0f), TT_ERR_RANGE);
    CHECK(isinf(norm));
    CHECK_ERROR_MENTIONS("inf or nan");
    check_tensor_near(p[0]->grad, "clip.g0", 0.0, 0.0);
    tt_tensor_data(p[2]->grad)[3] = NAN;
    CHECK_STATUS(tt_clip_grad_norm(&norm, &ps, 1.0f), TT_ERR_RANGE);
    CHECK(isnan(norm));
    free_clip_params(p, &ps);
}

static void test_clip_strided_grad(void)
{
    /* A gradient that is a transposed view is scaled through its strides. */
    tt_tensor *p = NULL, *g0 = NULL, *g = NULL;
    const float v[6] = {3, 0, 0, 4, 0, 0}; /* [2,3] stored, norm 5 */
    CHECK_OK(tt_tensor_zeros(&p, 2, TT_SHAPE(3, 2)));
    CHECK_OK(tt_tensor_from_data(&g0, 2, TT_SHAPE(2, 3), v));
    CHECK_OK(tt_tensor_transpose(&g, g0, 0, 1));
    p->grad = tt_tensor_retain(g);
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_params_push(&ps, p));
    float norm = 0.0f;
    CHECK_OK(tt_clip_grad_norm(&norm, &ps, 1.0f));
    CHECK(norm == 5.0f);
    const float *d = tt_tensor_data(g0);
    CHECK(d[0] == 3.0f * 0.2f && d[3] == 4.0f * 0.2f && d[1] == 0.0f);
    tt_params_release(&ps);
    tt_tensor_free(g);
    tt_tensor_free(g0);
    tt_tensor_free(p);
}

/* ================================================================ train step */

static void test_train_step_values(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *lin = NULL;
    CHECK_OK(tt_linear_new(&lin, 3, 2, true, &rng));
    tt_tensor *w = fixture_tensor(FX, "step.w"), *b = fixture_tensor(FX, "step.b");
    CHECK_OK(tt_tensor_assign(tt_linear_weight(lin), w));
    CHECK_OK(tt_tensor_assign(tt_linear_bias(lin), b));
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(lin, &ps));
    tt_optimizer_options o = TT_OPTIMIZER_OPTIONS_INIT;
    o.lr = 0.1f;
    tt_optimizer *opt = NULL;
    CHECK_OK(tt_optimizer_new(&opt, TT_OPTIM_SGD, &ps, &o));
    tt_tensor *x = fixture_tensor(FX, "step.x"), *y = fixture_tensor(FX, "step.y");
    float loss = NAN;
    CHECK_OK(tt_train_step(&loss, lin, opt, TT_LOSS_MSE, x, y, 0.0f));
    const fixture *want = fixture_find(FX, "step.loss");
    if (want)
        CHECK_NEAR(loss, want->data[0], 1e-6, 1e-5);
    check_tensor_near(tt_linear_weight(lin), "step.w_after", 1e-6, 1e-5);
    check_tensor_near(tt_linear_bias(lin), "step.b_after", 1e-6, 1e-5);
    CHECK(opt->step_count == 1);
    /* Gradients stay for inspection; the graph is gone (the parameters are leaves). */
    CHECK(tt_linear_weight(lin)->grad != NULL && tt_linear_weight(lin)->grad_fn == NULL);
    /* A second step starts from zero gradients, not from the first step's. */
    tt_tensor *g1 = NULL;
    CHECK_OK(tt_tensor_copy(&g1, tt_linear_bias(lin)->grad));
    float loss2 = NAN;
    CHECK_OK(tt_train_step(&loss2, lin, opt, TT_LOSS_MSE, x, y, 0.0f));
    CHECK(loss2 < loss);
    float gb = tt_tensor_data(tt_linear_bias(lin)->grad)[0];
    CHECK(fabsf(gb) < 1.5f * fabsf(tt_tensor_data(g1)[0]));
    tt_tensor_free(g1);
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_tensor_free(w);
    tt_tensor_free(b);
    tt_optimizer_free(opt);
    tt_params_release(&ps);
    tt_layer_free(lin);
}

static void test_train_step_learns_and_clips(void)
{
    tt_rng drop;
    tt_rng_init(&drop, 3);
    tt_layer *m = make_model(10, &drop, 16);
    tt_optimizer *opt = make_optimizer(m, TT_OPTIM_ADAM);
    dataset d = make_data();
    tt_eval_result before, after;
    CHECK_OK(tt_evaluate(&before, m, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 16));
    for (int epoch = 0; epoch < 60; epoch++) {
        float loss;
        CHECK_OK(tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 0.5f));
        /* Clipping happened before the update: the norm left in the grads is <= 0.5. */
        tt_params ps = {opt->params, opt->n_params, opt->n_params};
        float norm = 0.0f;
        CHECK_OK(tt_clip_grad_norm(&norm, &ps, INFINITY));
        CHECK(norm <= 0.5f * (1.0f + 1e-5f));
    }
    CHECK_OK(tt_evaluate(&after, m, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 16));
    CHECK(after.loss < 0.5 * before.loss);
    CHECK(after.accuracy >= 0.9);
    free_data(&d);
    tt_optimizer_free(opt);
    tt_layer_free(m);
}

static void test_train_step_grad_mode(void)
{
    tt_rng drop;
    tt_rng_init(&drop, 3);
    tt_layer *m = make_model(1, &drop, 8);
    tt_optimizer *opt = make_optimizer(m, TT_OPTIM_SGD);
    dataset d = make_data();
    bool was = tt_grad_set_enabled(false);
    float loss = NAN;
    CHECK_OK(tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 0.0f));
    CHECK(!tt_grad_is_enabled());
    CHECK(opt->step_count == 1 && isfinite(loss));
    tt_grad_set_enabled(was);
    CHECK(tt_grad_is_enabled());
    free_data(&d);
    tt_optimizer_free(opt);
    tt_layer_free(m);
}

static void test_train_step_errors_change_nothing(void)
{
    tt_rng drop;
    tt_rng_init(&drop, 3);
    tt_layer *m = make_model(1, &drop, 8);
    tt_optimizer *opt = make_optimizer(m, TT_OPTIM_ADAM);
    dataset d = make_data();
    size_t n0, n1;
    unsigned char *s0 = snapshot(m, opt, &n0);
    float loss = 0.0f;
    CHECK_STATUS(tt_train_step(NULL, m, opt, TT_LOSS_MSE, d.x, d.y, 0.0f), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_train_step(&loss, NULL, opt, TT_LOSS_MSE, d.x, d.y, 0.0f), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("model");
    CHECK_STATUS(tt_train_step(&loss, m, NULL, TT_LOSS_MSE, d.x, d.y, 0.0f), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_train_step(&loss, m, opt, TT_LOSS_MSE, NULL, d.y, 0.0f), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_train_step(&loss, m, opt, TT_LOSS_MSE, d.x, NULL, 0.0f), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, d.x, d.y, -1.0f),
                 TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("max_grad_norm");
    CHECK_STATUS(tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, d.x, d.y, NAN),
                 TT_ERR_INVALID_ARG);
    /* The forward fails: inputs with 5 features. */
    tt_tensor *bad_x = NULL, *bad_y = NULL, *huge = NULL;
    CHECK_OK(tt_tensor_zeros(&bad_x, 2, TT_SHAPE(16, 5)));
    CHECK_STATUS(tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, bad_x, d.y, 0.0f),
                 TT_ERR_SHAPE);
    CHECK(isnan(loss));
    /* The loss fails: a class index out of range. */
    CHECK_OK(tt_tensor_full(&bad_y, 1, TT_SHAPE(16), 3.0f));
    CHECK_STATUS(tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, d.x, bad_y, 0.0f),
                 TT_ERR_RANGE);
    /* Clipping finds a non-finite norm: the update is skipped. */
    CHECK_OK(tt_tensor_full(&huge, 2, TT_SHAPE(16, 4), NAN));
    CHECK_STATUS(tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, huge, d.y, 1.0f),
                 TT_ERR_RANGE);
    unsigned char *s1 = snapshot(m, opt, &n1);
    CHECK(same_snapshot(s0, n0, s1, n1));
    CHECK(opt->step_count == 0);
    CHECK(tt_grad_is_enabled());
    free(s0);
    free(s1);
    tt_tensor_free(bad_x);
    tt_tensor_free(bad_y);
    tt_tensor_free(huge);
    free_data(&d);
    tt_optimizer_free(opt);
    tt_layer_free(m);
}

/* ================================================================ evaluation */

static void test_evaluate_values(void)
{
    tt_rng rng;
    tt_rng_init(&rng, 1);
    tt_layer *lin = NULL;
    CHECK_OK(tt_linear_new(&lin, 4, 3, false, &rng));
    tt_tensor *w = fixture_tensor(FX, "eval.w"), *x = fixture_tensor(FX, "eval.x"),
              *y = fixture_tensor(FX, "eval.y");
    CHECK_OK(tt_tensor_assign(tt_linear_weight(lin), w));
    const fixture *loss = fixture_find(FX, "eval.loss"), *acc = fixture_find(FX, "eval.accuracy");
    /* Every batch size gives the loss of the whole set and the same accuracy. */
    const size_t sizes[] = {1, 2, 3, 6, 7, 100};
    for (size_t i = 0; i < 6 && loss && acc; i++) {
        tt_eval_result r;
        CHECK_OK(tt_evaluate(&r, lin, TT_LOSS_CROSS_ENTROPY, x, y, sizes[i]));
        CHECK_NEAR(r.loss, loss->data[0], 1e-6, 1e-5);
        CHECK_NEAR(r.accuracy, 5.0 / 7.0, 1e-12, 0.0);
        CHECK_NEAR(r.accuracy, acc->data[0], 1e-7, 0.0);
        CHECK(r.n_samples == 7);
    }
    tt_tensor_free(w);
    tt_tensor_free(x);
    tt_tensor_free(y);
    tt_layer_free(lin);

    /* BCE through a Sigmoid: p = sigmoid(x) against 0/1 targets. */
    tt_layer *sig = NULL;
    CHECK_OK(tt_sigmoid_layer_new(&sig));
    const float xv[6] = {-2.0f, -0.5f, 0.0f, 0.5f, 3.0f, -4.0f};
    const float tv[6] = {0.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f};
    /* predicted 0,0,1,1,1,0: correct, wrong, right (p = 0.5 counts as 1), right, wrong, right */
    tt_tensor *bx = NULL, *bt = NULL, *prob = NULL, *l = NULL;
    CHECK_OK(tt_tensor_from_data(&bx, 2, TT_SHAPE(6, 1), xv));
    CHECK_OK(tt_tensor_from_data(&bt, 2, TT_SHAPE(6, 1), tv));
    CHECK_OK(tt_sigmoid(&prob, bx));
    CHECK_OK(tt_bce_loss(&l, prob, bt));
    tt_eval_result r;
    CHECK_OK(tt_evaluate(&r, sig, TT_LOSS_BCE, bx, bt, 4));
    CHECK_NEAR(r.accuracy, 4.0 / 6.0, 1e-12, 0.0);
    CHECK_NEAR(r.loss, tt_tensor_data(l)[0], 1e-6, 1e-6);
    /* MSE: a loss but no accuracy. */
    tt_tensor_free(l);
    CHECK_OK(tt_mse_loss(&l, prob, bt));
    CHECK_OK(tt_evaluate(&r, sig, TT_LOSS_MSE, bx, bt, 5));
    CHECK(isnan(r.accuracy));
    CHECK_NEAR(r.loss, tt_tensor_data(l)[0], 1e-6, 1e-6);
    tt_tensor_free(l);
    tt_tensor_free(prob);
    tt_tensor_free(bx);
    tt_tensor_free(bt);
    tt_layer_free(sig);
}

static void test_evaluate_restores_modes(void)
{
    tt_rng drop;
    tt_rng_init(&drop, 3);
    tt_layer *m = make_model(1, &drop, 8);
    dataset d = make_data();
    tt_eval_result r1, r2;
    tt_rng before = drop;
    CHECK(m->training && tt_grad_is_enabled());
    CHECK_OK(tt_evaluate(&r1, m, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 5));
    /* Dropout was off (no draws) and both modes are back. */
    CHECK(drop.state == before.state);
    CHECK(m->training && tt_sequential_at(m, 2)->training);
    CHECK(tt_grad_is_enabled());
    /* Deterministic: the same numbers again. */
    CHECK_OK(tt_evaluate(&r2, m, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 3));
    CHECK_NEAR(r2.loss, r1.loss, 1e-6, 1e-6);
    CHECK(r2.accuracy == r1.accuracy);
    /* No graph was recorded, so no gradient can appear. */
    tt_params ps;
    tt_params_init(&ps);
    CHECK_OK(tt_layer_parameters(m, &ps));
    for (size_t i = 0; i < ps.count; i++)
        CHECK(ps.items[i]->grad == NULL);
    tt_params_release(&ps);
    /* From evaluation mode and no-grad, it stays there. */
    tt_layer_set_training(m, false);
    bool was = tt_grad_set_enabled(false);
    CHECK_OK(tt_evaluate(&r2, m, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 16));
    CHECK(!m->training && !tt_grad_is_enabled());
    tt_grad_set_enabled(was);
    tt_layer_set_training(m, true);
    /* And on an error half-way (a bad class index in the second batch). */
    tt_tensor *bad_y = NULL;
    CHECK_OK(tt_tensor_copy(&bad_y, d.y));
    tt_tensor_data(bad_y)[12] = 7.0f;
    r1.loss = 42.0;
    CHECK_STATUS(tt_evaluate(&r1, m, TT_LOSS_CROSS_ENTROPY, d.x, bad_y, 8), TT_ERR_RANGE);
    CHECK(r1.loss == 0.0 && r1.n_samples == 0);
    CHECK(m->training && tt_grad_is_enabled());
    tt_tensor_free(bad_y);
    free_data(&d);
    tt_layer_free(m);
}

static void test_evaluate_errors(void)
{
    tt_rng drop;
    tt_rng_init(&drop, 3);
    tt_layer *m = make_model(1, &drop, 8);
    dataset d = make_data();
    tt_eval_result r;
    CHECK_STATUS(tt_evaluate(NULL, m, TT_LOSS_MSE, d.x, d.y, 4), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_evaluate(&r, NULL, TT_LOSS_MSE, d.x, d.y, 4), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_evaluate(&r, m, TT_LOSS_MSE, NULL, d.y, 4), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_evaluate(&r, m, TT_LOSS_MSE, d.x, NULL, 4), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_evaluate(&r, m, (tt_loss_kind)0, d.x, d.y, 4), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("unknown loss kind");
    CHECK_STATUS(tt_evaluate(&r, m, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 0), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("batch_size");
    tt_tensor *s = NULL, *short_y = NULL;
    CHECK_OK(tt_tensor_scalar(&s, 1.0f));
    CHECK_STATUS(tt_evaluate(&r, m, TT_LOSS_CROSS_ENTROPY, s, d.y, 4), TT_ERR_INVALID_ARG);
    CHECK_ERROR_MENTIONS("0-dimensional");
    CHECK_OK(tt_tensor_slice(&short_y, d.y, 0, 0, 10));
    CHECK_STATUS(tt_evaluate(&r, m, TT_LOSS_CROSS_ENTROPY, d.x, short_y, 4), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("16 input rows but 10 target rows");
    /* MSE of [N,3] predictions against [N] targets: the loss's shape error. */
    CHECK_STATUS(tt_evaluate(&r, m, TT_LOSS_MSE, d.x, d.y, 4), TT_ERR_SHAPE);
    CHECK(m->training && tt_grad_is_enabled());
    tt_tensor_free(s);
    tt_tensor_free(short_y);
    free_data(&d);
    tt_layer_free(m);
}

/* =============================================================== checkpoints */

/* A model and Adam optimizer after 3 steps, saved to `name`. */
static void trained_checkpoint(const char *name, tt_layer **model, tt_optimizer **opt,
                               tt_rng *drop)
{
    char path[128];
    path_in_dir(path, sizeof path, name);
    tt_rng_init(drop, 3);
    *model = make_model(1, drop, 8);
    *opt = make_optimizer(*model, TT_OPTIM_ADAM);
    dataset d = make_data();
    train_steps(*model, *opt, &d, 0, 3);
    CHECK_OK(tt_checkpoint_save(path, *model, *opt));
    free_data(&d);
}

static void test_checkpoint_format(void)
{
    tt_layer *m;
    tt_optimizer *opt;
    tt_rng drop;
    trained_checkpoint("format.ckpt", &m, &opt, &drop);
    char path[128];
    path_in_dir(path, sizeof path, "format.ckpt");
    size_t size = 0;
    unsigned char *buf = read_all(path, &size);
    CHECK(buf != NULL);
    /* Expected size: header, 4 parameter records, optimizer section with two states
     * per parameter, CRC. Parameters: [4,8] [8] [8,3] [3]. */
    const size_t numel[4] = {32, 8, 24, 3}, ndim[4] = {2, 1, 2, 1};
    size_t want = 24 + 4;
    for (int i = 0; i < 4; i++)
        want += 4 + 8 * ndim[i] + 4 * numel[i] + 1 + 8 * numel[i];
    want += 4 + 6 * 4 + 8 + 8;
    CHECK(size == want);
    if (buf && size == want) {
        const unsigned char magic[8] = {0x89, 'T', 'T', 'C', '\r', '\n', 0x1a, '\n'};
        CHECK(memcmp(buf, magic, 8) == 0);
        CHECK(le32(buf + 8) == 1);
        CHECK(le32(buf + 12) == 1);  /* optimizer section */
        CHECK(le64(buf + 16) == 4);  /* parameter tensors */
        CHECK(le32(buf + 24) == 2 && le64(buf + 28) == 4 && le64(buf + 36) == 8);
        /* The first weight, as its exact bit pattern. */
        float w0 = tt_tensor_data(tt_linear_weight(tt_sequential_at(m, 0)))[0];
        uint32_t bits;
        memcpy(&bits, &w0, 4);
        CHECK(le32(buf + 44) == bits);
        CHECK(le32(buf + size - 4) == crc32_bitwise(buf, size - 4));
        /* The optimizer section: kind, lr, step count. */
        size_t opt_at = 24;
        for (int i = 0; i < 4; i++)
            opt_at += 4 + 8 * ndim[i] + 4 * numel[i];
        CHECK(le32(buf + opt_at) == TT_OPTIM_ADAM);
        float lr;
        uint32_t lr_bits = le32(buf + opt_at + 4);
        memcpy(&lr, &lr_bits, 4);
        CHECK(lr == opt->options.lr);
        CHECK(le64(buf + opt_at + 28) == 3);
        CHECK(le64(buf + opt_at + 36) == 4);
        CHECK(buf[opt_at + 44] == 3); /* both Adam buffers present */
    }
    /* Nothing else left in the directory: the temporary file was renamed. */
    CHECK(dir_entries() == 1);
    /* The mode any new file gets under the umask (not a private temporary's 0600). */
    mode_t old_mask = umask(022);
    CHECK_OK(tt_checkpoint_save(path, m, opt));
    umask(old_mask);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644);
    free(buf);
    remove(path);
    tt_optimizer_free(opt);
    tt_layer_free(m);
}

static void test_checkpoint_params_only_roundtrip(void)
{
    tt_rng d1, d2;
    tt_rng_init(&d1, 1);
    tt_rng_init(&d2, 1);
    tt_layer *a = make_model(5, &d1, 8), *b = make_model(6, &d2, 8);
    char path[128];
    path_in_dir(path, sizeof path, "params.ckpt");
    size_t na, nb;
    unsigned char *sa = snapshot(a, NULL, &na), *sb = snapshot(b, NULL, &nb);
    CHECK(!same_snapshot(sa, na, sb, nb));
    free(sb);
    CHECK_OK(tt_checkpoint_save(path, a, NULL));
    CHECK_OK(tt_checkpoint_load(path, b, NULL));
    sb = snapshot(b, NULL, &nb);
    CHECK(same_snapshot(sa, na, sb, nb));
    /* Without an optimizer section, loading into an optimizer is refused. */
    tt_optimizer *opt = make_optimizer(b, TT_OPTIM_SGD);
    CHECK_STATUS(tt_checkpoint_load(path, b, opt), TT_ERR_FORMAT);
    CHECK_ERROR_MENTIONS("no optimizer state");
    /* Overwriting an existing checkpoint replaces it atomically. */
    CHECK_OK(tt_checkpoint_save(path, b, opt));
    CHECK(dir_entries() == 1);
    CHECK_OK(tt_checkpoint_load(path, a, opt));
    tt_optimizer_free(opt);
    free(sa);
    free(sb);
    remove(path);
    tt_layer_free(a);
    tt_layer_free(b);
}

static void resume_case(tt_optimizer_kind kind)
{
    const int k = 6;
    char ck1[128], ck_a[128], ck_b[128];
    path_in_dir(ck1, sizeof ck1, "resume_k.ckpt");
    path_in_dir(ck_a, sizeof ck_a, "resume_a.ckpt");
    path_in_dir(ck_b, sizeof ck_b, "resume_b.ckpt");
    dataset d = make_data();

    /* Run A: k steps, save, k more. The dropout rng is the caller's state: keep it. */
    tt_rng drop_a, drop_b;
    tt_rng_init(&drop_a, 3);
    tt_layer *a = make_model(1, &drop_a, 8);
    tt_optimizer *opt_a = make_optimizer(a, kind);
    train_steps(a, opt_a, &d, 0, k);
    CHECK_OK(tt_checkpoint_save(ck1, a, opt_a));
    tt_rng saved_rng = drop_a;
    train_steps(a, opt_a, &d, k, 2 * k);
    CHECK_OK(tt_checkpoint_save(ck_a, a, opt_a));

    /* Run B: another initialisation, a fresh optimizer (no state, other options),
     * then the checkpoint, then the same k steps. */
    tt_rng_init(&drop_b, 12345);
    tt_layer *b = make_model(99, &drop_b, 8);
    tt_optimizer *opt_b = make_optimizer(b, kind);
    CHECK_OK(tt_optimizer_set_lr(opt_b, 0.7f));
    CHECK_OK(tt_checkpoint_load(ck1, b, opt_b));
    CHECK(opt_b->step_count == k);
    drop_b = saved_rng;
    train_steps(b, opt_b, &d, k, 2 * k);
    CHECK_OK(tt_checkpoint_save(ck_b, b, opt_b));

    size_t na, nb;
    unsigned char *sa = snapshot(a, opt_a, &na), *sb = snapshot(b, opt_b, &nb);
    CHECK(same_snapshot(sa, na, sb, nb));
    free(sa);
    free(sb);
    unsigned char *fa = read_all(ck_a, &na), *fb = read_all(ck_b, &nb);
    CHECK(fa && fb && na > 0 && same_snapshot(fa, na, fb, nb));
    free(fa);
    free(fb);
    remove(ck1);
    remove(ck_a);
    remove(ck_b);
    tt_optimizer_free(opt_a);
    tt_optimizer_free(opt_b);
    tt_layer_free(a);
    tt_layer_free(b);
    free_data(&d);
}

static void test_checkpoint_resume_bit_identical(void)
{
    resume_case(TT_OPTIM_SGD);
    resume_case(TT_OPTIM_ADAM);
    resume_case(TT_OPTIM_ADAMW);
}

static void test_checkpoint_state_absent_clears(void)
{
    /* Saved before the first step (no state) and loaded into an optimizer that has
     * state: the state goes, so the next step is the first step again. */
    tt_rng drop;
    tt_rng_init(&drop, 3);
    tt_layer *m = make_model(1, &drop, 8);
    tt_optimizer *opt = make_optimizer(m, TT_OPTIM_ADAM);
    char path[128];
    path_in_dir(path, sizeof path, "fresh.ckpt");
    CHECK_OK(tt_checkpoint_save(path, m, opt));
    dataset d = make_data();
    train_steps(m, opt, &d, 0, 2);
    CHECK(opt->state1[0] != NULL);
    CHECK_OK(tt_checkpoint_load(path, m, opt));
    CHECK(opt->step_count == 0);
    for (size_t i = 0; i < opt->n_params; i++)
        CHECK(opt->state1[i] == NULL && opt->state2[i] == NULL);
    free_data(&d);
    remove(path);
    tt_optimizer_free(opt);
    tt_layer_free(m);
}

/* Load `buf` as a file into (m, opt): must fail with `want` mentioning `needle`, and
 * leave both exactly as they were. */
static bool refused(const unsigned char *buf, size_t size, tt_layer *m, tt_optimizer *opt,
                    tt_status want, const char *needle)
{
    char path[128];
    path_in_dir(path, sizeof path, "bad.ckpt");
    write_all(path, buf, size);
    size_t n0, n1;
    unsigned char *s0 = snapshot(m, opt, &n0);
    tt_status st = tt_checkpoint_load(path, m, opt);
    unsigned char *s1 = snapshot(m, opt, &n1);
    bool ok = st == want && same_snapshot(s0, n0, s1, n1) &&
              (!needle || strstr(tt_error_last(), needle));
    if (!ok)
        fprintf(stderr, "%s: got %s (\"%s\"), expected %s mentioning \"%s\"%s\n",
                harness_current, tt_status_name(st), tt_error_last(), tt_status_name(want),
                needle ? needle : "", same_snapshot(s0, n0, s1, n1) ? "" : "; model changed");
    free(s0);
    free(s1);
    remove(path);
    return ok;
}

/* The model and optimizer that corrupt files are loaded into: trained differently
 * from the one that wrote the file, so any partial load would show. */
static void victim(tt_layer **m, tt_optimizer **opt, tt_rng *drop)
{
    tt_rng_init(drop, 8);
    *m = make_model(77, drop, 8);
    *opt = make_optimizer(*m, TT_OPTIM_ADAM);
    dataset d = make_data();
    train_steps(*m, *opt, &d, 0, 1);
    free_data(&d);
}

static void test_checkpoint_every_flip_and_truncation_refused(void)
{
    tt_layer *m, *v;
    tt_optimizer *opt, *vopt;
    tt_rng drop, vdrop;
    trained_checkpoint("good.ckpt", &m, &opt, &drop);
    victim(&v, &vopt, &vdrop);
    char path[128];
    path_in_dir(path, sizeof path, "good.ckpt");
    size_t size = 0;
    unsigned char *good = read_all(path, &size);
    CHECK(good && size > 100);
    unsigned char *bad = malloc(size);
    size_t flips_ok = 0, cuts_ok = 0;
    for (size_t i = 0; good && i < size; i++) {
        memcpy(bad, good, size);
        bad[i] ^= (unsigned char)(1u << (i % 8));
        flips_ok += refused(bad, size, v, vopt, TT_ERR_FORMAT, NULL);
    }
    CHECK(flips_ok == size);
    for (size_t len = 0; good && len < size; len++)
        cuts_ok += refused(good, len, v, vopt, TT_ERR_FORMAT, NULL);
    CHECK(cuts_ok == size);
    /* Messages name the problem. */
    if (good) {
        CHECK(refused(good, size - 1, v, vopt, TT_ERR_FORMAT, "truncated"));
        CHECK(refused(good, 10, v, vopt, TT_ERR_FORMAT, "truncated"));
        CHECK(refused(good, 0, v, vopt, TT_ERR_FORMAT, "truncated"));
        memcpy(bad, good, size);
        bad[size / 2] ^= 0x40;
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "CRC-32 mismatch"));
        memcpy(bad, good, size);
        bad[0] = 'P';
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "bad magic"));
    }
    /* The good file itself loads (the victim was fine all along). */
    CHECK_OK(tt_checkpoint_load(path, v, vopt));
    free(good);
    free(bad);
    remove(path);
    tt_optimizer_free(opt);
    tt_optimizer_free(vopt);
    tt_layer_free(m);
    tt_layer_free(v);
}

static void test_checkpoint_forged_files_refused(void)
{
    /* Defects behind a valid CRC: each check must stand on its own. */
    tt_layer *m, *v;
    tt_optimizer *opt, *vopt;
    tt_rng drop, vdrop;
    trained_checkpoint("forge.ckpt", &m, &opt, &drop);
    victim(&v, &vopt, &vdrop);
    char path[128];
    path_in_dir(path, sizeof path, "forge.ckpt");
    size_t size = 0;
    unsigned char *good = read_all(path, &size);
    unsigned char *bad = malloc(size + 16);
    if (good && bad) {
        memcpy(bad, good, size);
        memcpy(bad, "TTCKPT01", 8);
        fix_crc(bad, size);
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "bad magic"));

        memcpy(bad, good, size);
        put_le32(bad + 8, 2);
        fix_crc(bad, size);
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "format version 2"));

        memcpy(bad, good, size);
        put_le32(bad + 12, 0x5);
        fix_crc(bad, size);
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "unknown flags"));

        memcpy(bad, good, size);
        put_le32(bad + 24, 7); /* ndim 7 */
        fix_crc(bad, size);
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "ndim 7"));

        memcpy(bad, good, size);
        memset(bad + 28, 0, 8); /* a zero-size dimension */
        fix_crc(bad, size);
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "dimension 0 of size 0"));

        /* Bytes after the contents, before a CRC that covers them. */
        memcpy(bad, good, size - 4);
        memset(bad + size - 4, 0xAB, 8);
        fix_crc(bad, size + 8);
        CHECK(refused(bad, size + 8, v, vopt, TT_ERR_FORMAT, "unexpected bytes"));

        /* The optimizer section: an invalid lr, impossible presence bits. */
        size_t opt_at = 24 + (4 + 16 + 128) + (4 + 8 + 32) + (4 + 16 + 96) + (4 + 8 + 12);
        CHECK(le32(good + opt_at) == TT_OPTIM_ADAM);
        memcpy(bad, good, size);
        put_le32(bad + opt_at + 4, 0xBF800000u); /* lr = -1 */
        fix_crc(bad, size);
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "invalid optimizer header"));
        memcpy(bad, good, size);
        bad[opt_at + 44] = 1; /* Adam with only m */
        fix_crc(bad, size);
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "presence bits"));
        memcpy(bad, good, size);
        put_le32(bad + opt_at, 9);
        fix_crc(bad, size);
        CHECK(refused(bad, size, v, vopt, TT_ERR_FORMAT, "invalid optimizer header"));
    }
    free(good);
    free(bad);
    remove(path);
    tt_optimizer_free(opt);
    tt_optimizer_free(vopt);
    tt_layer_free(m);
    tt_layer_free(v);
}

static void test_checkpoint_wrong_model_refused(void)
{
    tt_layer *m;
    tt_optimizer *opt;
    tt_rng drop;
    trained_checkpoint("shape.ckpt", &m, &opt, &drop);
    char path[128];
    path_in_dir(path, sizeof path, "shape.ckpt");
    size_t size = 0;
    unsigned char *good = read_all(path, &size);

    /* Hidden width 9 instead of 8: same count, other shapes. */
    tt_rng d2;
    tt_rng_init(&d2, 1);
    tt_layer *wide = make_model(2, &d2, 9);
    tt_optimizer *wide_opt = make_optimizer(wide, TT_OPTIM_ADAM);
    CHECK(refused(good, size, wide, wide_opt, TT_ERR_SHAPE, "shape [4,8]"));
    CHECK(refused(good, size, wide, NULL, TT_ERR_SHAPE, "but [4,9] in the model"));

    /* One Linear: another parameter count. */
    tt_rng r;
    tt_rng_init(&r, 1);
    tt_layer *one = NULL;
    CHECK_OK(tt_linear_new(&one, 4, 8, true, &r));
    CHECK(refused(good, size, one, NULL, TT_ERR_SHAPE, "holds 4 parameter tensors, the model has 2"));

    /* Right model, optimizer of another kind. */
    tt_rng d3;
    tt_rng_init(&d3, 1);
    tt_layer *same = make_model(3, &d3, 8);
    tt_optimizer *sgd = make_optimizer(same, TT_OPTIM_SGD);
    CHECK(refused(good, size, same, sgd, TT_ERR_FORMAT, "holds Adam state but the optimizer is SGD"));
    /* Right model, optimizer over other tensors. */
    tt_params few;
    tt_params_init(&few);
    CHECK_OK(tt_params_push(&few, tt_linear_weight(one)));
    tt_optimizer *small = NULL;
    CHECK_OK(tt_optimizer_new(&small, TT_OPTIM_ADAM, &few, NULL));
    CHECK(refused(good, size, same, small, TT_ERR_SHAPE, "the optimizer has 1 parameters"));
    tt_params_release(&few);
    /* Parameters only, from a file that also holds optimizer state: fine. */
    CHECK_OK(tt_checkpoint_load(path, same, NULL));

    free(good);
    remove(path);
    tt_optimizer_free(small);
    tt_optimizer_free(sgd);
    tt_optimizer_free(wide_opt);
    tt_optimizer_free(opt);
    tt_layer_free(same);
    tt_layer_free(one);
    tt_layer_free(wide);
    tt_layer_free(m);
}

static void test_checkpoint_io_and_argument_errors(void)
{
    tt_rng drop;
    tt_rng_init(&drop, 1);
    tt_layer *m = make_model(1, &drop, 8);
    tt_optimizer *opt = make_optimizer(m, TT_OPTIM_SGD);
    char path[160];
    path_in_dir(path, sizeof path, "missing.ckpt");
    size_t n0, n1;
    unsigned char *s0 = snapshot(m, opt, &n0);
    CHECK_STATUS(tt_checkpoint_load(path, m, opt), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("cannot open");
    CHECK_ERROR_MENTIONS("missing.ckpt");
    CHECK_STATUS(tt_checkpoint_load(DIR_PATH, m, opt), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("not a regular file");
    CHECK_STATUS(tt_checkpoint_load(NULL, m, opt), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_checkpoint_load(path, NULL, opt), TT_ERR_INVALID_ARG);
    unsigned char *s1 = snapshot(m, opt, &n1);
    CHECK(same_snapshot(s0, n0, s1, n1));

    /* Saving into a directory that does not exist, or over a directory. */
    path_in_dir(path, sizeof path, "no/such/dir/x.ckpt");
    CHECK_STATUS(tt_checkpoint_save(path, m, opt), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("temporary file");
    path_in_dir(path, sizeof path, "a_directory");
    CHECK(mkdir(path, 0700) == 0);
    CHECK_STATUS(tt_checkpoint_save(path, m, opt), TT_ERR_IO);
    CHECK_ERROR_MENTIONS("renaming");
    /* The failed save left no temporary file behind. */
    CHECK(dir_entries() == 1);
    rmdir(path);
    CHECK_STATUS(tt_checkpoint_save(NULL, m, opt), TT_ERR_INVALID_ARG);
    CHECK_STATUS(tt_checkpoint_save(path, NULL, opt), TT_ERR_INVALID_ARG);
    /* An optimizer that is not this model's. */
    tt_rng d2;
    tt_rng_init(&d2, 1);
    tt_layer *wide = make_model(2, &d2, 9);
    CHECK_STATUS(tt_checkpoint_save(path, wide, opt), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("parameter 0 has shape [4,9] in the model but [4,8] in the optimizer");
    tt_layer *one = NULL;
    CHECK_OK(tt_linear_new(&one, 4, 8, true, &d2));
    CHECK_STATUS(tt_checkpoint_save(path, one, opt), TT_ERR_SHAPE);
    CHECK_ERROR_MENTIONS("the optimizer has 4 parameters, the model 2");
    CHECK(dir_entries() == 0);
    free(s0);
    free(s1);
    tt_layer_free(one);
    tt_layer_free(wide);
    tt_optimizer_free(opt);
    tt_layer_free(m);
}

static void test_checkpoint_out_of_memory(void)
{
    tt_layer *m, *v;
    tt_optimizer *opt, *vopt;
    tt_rng drop, vdrop;
    trained_checkpoint("oom.ckpt", &m, &opt, &drop);
    char path[128], other[128];
    path_in_dir(path, sizeof path, "oom.ckpt");
    path_in_dir(other, sizeof other, "oom2.ckpt");
    /* Save with each allocation failing in turn. */
    int failures = 0;
    for (long n = 0; n < 100; n++) {
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(n);
        tt_status st = tt_checkpoint_save(other, m, opt);
        tt_alloc_fail_after(-1);
        CHECK(tt_alloc_live() == live);
        if (st == TT_OK)
            break;
        failures++;
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(dir_entries() == 1);
    }
    CHECK(failures >= 2);
    /* Load into a fresh optimizer (its state must be allocated) with each allocation
     * failing in turn: nothing changes until it succeeds. */
    victim(&v, &vopt, &vdrop);
    tt_optimizer *fresh = make_optimizer(v, TT_OPTIM_ADAM);
    failures = 0;
    for (long n = 0; n < 100; n++) {
        size_t n0, n1;
        unsigned char *s0 = snapshot(v, fresh, &n0);
        size_t live = tt_alloc_live();
        tt_alloc_fail_after(n);
        tt_status st = tt_checkpoint_load(path, v, fresh);
        tt_alloc_fail_after(-1);
        unsigned char *s1 = snapshot(v, fresh, &n1);
        if (st == TT_OK) {
            free(s0);
            free(s1);
            break;
        }
        failures++;
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(tt_alloc_live() == live);
        CHECK(same_snapshot(s0, n0, s1, n1));
        free(s0);
        free(s1);
    }
    CHECK(failures >= 8 + 3); /* 8 state buffers, plus buffer, list and slots */
    size_t na, nb;
    unsigned char *sa = snapshot(m, opt, &na), *sb = snapshot(v, fresh, &nb);
    CHECK(same_snapshot(sa, na, sb, nb));
    free(sa);
    free(sb);
    remove(path);
    remove(other);
    tt_optimizer_free(fresh);
    tt_optimizer_free(vopt);
    tt_optimizer_free(opt);
    tt_layer_free(v);
    tt_layer_free(m);
}

static void test_train_and_evaluate_out_of_memory(void)
{
    tt_rng drop;
    tt_rng_init(&drop, 3);
    tt_layer *m = make_model(1, &drop, 8);
    tt_optimizer *opt = make_optimizer(m, TT_OPTIM_ADAM);
    dataset d = make_data();
    int failures = 0;
    for (long n = 0; n < 400; n++) {
        size_t n0, n1;
        unsigned char *s0 = snapshot(m, opt, &n0);
        tt_rng before = drop;
        float loss;
        tt_alloc_fail_after(n);
        tt_status st = tt_train_step(&loss, m, opt, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 1.0f);
        tt_alloc_fail_after(-1);
        unsigned char *s1 = snapshot(m, opt, &n1);
        if (st == TT_OK) {
            free(s0);
            free(s1);
            break;
        }
        failures++;
        CHECK_STATUS(st, TT_ERR_NOMEM);
        CHECK(same_snapshot(s0, n0, s1, n1));
        CHECK(tt_grad_is_enabled());
        drop = before; /* replay the same dropout mask next time */
        free(s0);
        free(s1);
    }
    CHECK(failures > 10);
    CHECK(opt->step_count == 1);
    failures = 0;
    for (long n = 0; n < 400; n++) {
        tt_eval_result r;
        tt_alloc_fail_after(n);
        tt_status st = tt_evaluate(&r, m, TT_LOSS_CROSS_ENTROPY, d.x, d.y, 5);
        tt_alloc_fail_after(-1);
        CHECK(m->training && tt_grad_is_enabled());
        if (st == TT_OK)
            break;
        failures++;
        CHECK_STATUS(st, TT_ERR_NOMEM);
    }
    CHECK(failures > 10);
    free_data(&d);
    tt_optimizer_free(opt);
    tt_layer_free(m);
}

int main(int argc, char **argv)
{
    harness_init(argc, argv);
    FX = fixtures_load("training");
    if (!FX) {
        fprintf(stderr, "cannot load the training fixtures\n");
        return 1;
    }
    snprintf(DIR_PATH, sizeof DIR_PATH, "/tmp/tt_training_XXXXXX");
    if (!mkdtemp(DIR_PATH)) {
        perror("mkdtemp");
        fixtures_free(FX);
        return 1;
    }
    RUN(test_crc32);
    RUN(test_loss_compute);
    RUN(test_cosine_schedule);
    RUN(test_clip_grad_norm);
    RUN(test_clip_errors);
    RUN(test_clip_strided_grad);
    RUN(test_train_step_values);
    RUN(test_train_step_learns_and_clips);
    RUN(test_train_step_grad_mode);
    RUN(test_train_step_errors_change_nothing);
    RUN(test_evaluate_values);
    RUN(test_evaluate_restores_modes);
    RUN(test_evaluate_errors);
    RUN(test_checkpoint_format);
    RUN(test_checkpoint_params_only_roundtrip);
    RUN(test_checkpoint_resume_bit_identical);
    RUN(test_checkpoint_state_absent_clears);
    RUN(test_checkpoint_every_flip_and_truncation_refused);
    RUN(test_checkpoint_forged_files_refused);
    RUN(test_checkpoint_wrong_model_refused);
    RUN(test_checkpoint_io_and_argument_errors);
    RUN(test_checkpoint_out_of_memory);
    RUN(test_train_and_evaluate_out_of_memory);
    /* Every test removes its files: a non-empty directory is a failure too. */
    int left = dir_entries();
    if (left)
        fprintf(stderr, "%d file(s) left in %s\n", left, DIR_PATH);
    rmdir(DIR_PATH);
    fixtures_free(FX);
    int rc = harness_summary();
    return left ? 1 : rc;
}
