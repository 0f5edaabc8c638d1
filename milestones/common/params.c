/*
 * milestones/common/params.c: the trained parameters a milestone program saves for an
 * independent evaluation, and the atomic file writing every output shares.
 *
 * A student's milestone program runs the trusted milestone code in one process with the
 * student's modules, so whatever that process reports could have been written by the
 * student's code. Only what it trained cannot be faked cheaply: `--params FILE` saves
 * each model's parameter values (before and after training), and tito hands that file to
 * the reference's build of the same program (`--evaluate FILE`), which puts the values
 * into the reference's model and measures them on the held-out data itself.
 *
 * The file, in the machine's byte order (it is read on the machine that wrote it):
 *
 *     "TTMSPAR1"                       8 bytes
 *     uint32 milestone, uint32 runs    the number of milestones.def, the models
 *     uint64 seed                      the run's --seed
 *     per model: uint64 count, float initial[count], float final[count]
 */
#define _POSIX_C_SOURCE 200809L

#include "milestone.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "TTMSPAR1"
#define MAX_VALUES ((uint64_t)1 << 26) /* per model: far above any milestone's model */

int ms_write_atomic(const char *path, void (*write)(FILE *fp, const void *ctx), const void *ctx)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 8);
    if (!tmp)
        return ENOMEM;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".XXXXXX", 8);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int err = errno;
        free(tmp);
        return err;
    }
    /* mkstemp makes the file 0600; results are not secret, so give them the mode any
     * new file would get. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        /* Not worth failing for: the file is still the caller's. */
    }
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        int err = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return err;
    }
    errno = 0;
    write(fp, ctx);
    int err = 0;
    if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0)
        err = errno ? errno : EIO;
    if (fclose(fp) != 0 && !err)
        err = errno ? errno : EIO;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err)
        unlink(tmp);
    free(tmp);
    return err;
}

typedef struct params_out {
    int milestone;
    uint64_t seed;
    const ms_result *results;
    size_t n_runs;
} params_out;

static void write_params(FILE *fp, const void *ctx)
{
    const params_out *p = ctx;
    uint32_t head[2] = {(uint32_t)p->milestone, (uint32_t)p->n_runs};
    fwrite(MAGIC, 1, 8, fp);
    fwrite(head, sizeof head, 1, fp);
    fwrite(&p->seed, sizeof p->seed, 1, fp);
    for (size_t i = 0; i < p->n_runs; i++) {
        const ms_result *r = &p->results[i];
        uint64_t count = r->n_values;
        fwrite(&count, sizeof count, 1, fp);
        if (count) {
            fwrite(r->initial, sizeof *r->initial, count, fp);
            fwrite(r->final, sizeof *r->final, count, fp);
        }
    }
}

int ms_params_save(const char *path, int milestone, uint64_t seed, const ms_result *results,
                   size_t n_runs)
{
    params_out p = {milestone, seed, results, n_runs};
    return ms_write_atomic(path, write_params, &p);
}

void ms_saved_release(ms_saved *runs, size_t n_runs)
{
    for (size_t i = 0; runs && i < n_runs; i++) {
        free(runs[i].initial);
        free(runs[i].final);
    }
    free(runs);
}

static tt_status bad_file(const char *path, const char *what)
{
    return tt_error_set(TT_ERR_FORMAT, "%s: not a parameters file of this milestone: %s", path,
                        what);
}

tt_status ms_params_read(ms_saved **out, uint64_t *seed, const char *path, int milestone,
                         size_t n_runs)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return tt_error_set(TT_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    tt_status st = TT_OK;
    ms_saved *runs = calloc(n_runs ? n_runs : 1, sizeof *runs);
    char magic[8];
    uint32_t head[2];
    if (!runs) {
        st = tt_error_set(TT_ERR_NOMEM, "no memory to read %s", path);
        goto done;
    }
    if (fread(magic, 1, 8, fp) != 8 || memcmp(magic, MAGIC, 8) != 0 ||
        fread(head, sizeof head, 1, fp) != 1 || fread(seed, sizeof *seed, 1, fp) != 1) {
        st = bad_file(path, "no header");
        goto done;
    }
    if (head[0] != (uint32_t)milestone || head[1] != n_runs) {
        st = bad_file(path, "made for another milestone");
        goto done;
    }
    for (size_t i = 0; i < n_runs; i++) {
        uint64_t count = 0;
        if (fread(&count, sizeof count, 1, fp) != 1 || count > MAX_VALUES) {
            st = bad_file(path, "a model's size is missing or absurd");
            goto done;
        }
        runs[i].count = (size_t)count;
        runs[i].initial = malloc((count ? count : 1) * sizeof(float));
        runs[i].final = malloc((count ? count : 1) * sizeof(float));
        if (!runs[i].initial || !runs[i].final) {
            st = tt_error_set(TT_ERR_NOMEM, "no memory to read %s", path);
            goto done;
        }
        if (fread(runs[i].initial, sizeof(float), count, fp) != count ||
            fread(runs[i].final, sizeof(float), count, fp) != count) {
            st = bad_file(path, "it ends early");
            goto done;
        }
    }
    if (fgetc(fp) != EOF)
        st = bad_file(path, "there is more after the last model");
done:
    fclose(fp);
    if (st != TT_OK) {
        ms_saved_release(runs, n_runs);
        return st;
    }
    *out = runs;
    return TT_OK;
}

tt_status ms_params_snapshot(float **out, const tt_params *params)
{
    size_t total = tt_params_numel(params), at = 0;
    float *values = malloc((total ? total : 1) * sizeof *values);
    *out = NULL;
    if (!values)
        return tt_error_set(TT_ERR_NOMEM, "milestone: no memory for a copy of %zu parameters",
                            total);
    for (size_t i = 0; i < params->count; i++) {
        size_t n = tt_tensor_numel(params->items[i]);
        tt_status st = tt_tensor_to_array(params->items[i], values + at, n);
        if (st != TT_OK) {
            free(values);
            return st;
        }
        at += n;
    }
    *out = values;
    return TT_OK;
}

tt_status ms_params_load(const tt_params *params, const float *values, size_t count)
{
    size_t total = tt_params_numel(params), at = 0;
    if (total != count)
        return tt_error_set(TT_ERR_SHAPE,
                            "the saved model has %zu parameter values, this one %zu: its "
                            "layers' parameters are not the ones the modules specify",
                            count, total);
    for (size_t i = 0; i < params->count; i++) {
        tt_tensor *p = params->items[i], *src = NULL;
        size_t n = tt_tensor_numel(p);
        tt_status st = tt_tensor_from_data(&src, p->ndim, p->shape, values + at);
        if (st == TT_OK)
            st = tt_tensor_assign(p, src);
        tt_tensor_free(src);
        if (st != TT_OK)
            return st;
        at += n;
    }
    return TT_OK;
}
