/*
 * grader/grade.c: verdict names and the release of a tito_grade (grade.h).
 */
#include "grade.h"

#include <stdlib.h>

const char *tito_verdict_name(tito_verdict verdict)
{
    switch (verdict) {
    case TITO_PASS: return "pass";
    case TITO_FAIL: return "fail";
    case TITO_TIMEOUT: return "timeout";
    case TITO_MEMORY_LIMIT: return "memory-limit";
    case TITO_OUTPUT_LIMIT: return "output-limit";
    case TITO_CRASH: return "crash";
    case TITO_COMPILE_ERROR: return "compile-error";
    case TITO_LINK_ERROR: return "link-error";
    case TITO_LEAK: return "leak";
    case TITO_MEMORY_ERROR: return "memory-error";
    case TITO_SKIPPED: return "skipped";
    }
    return "unknown";
}

static void provenance_release(tito_provenance *p)
{
    free(p->commit);
    free(p->source_path);
    free(p->source_hash);
    free(p->suite_hash);
    free(p->reference_hash);
    free(p->tito_version);
    free(p->compiler);
    free(p->isolation);
}

void tito_grade_free(tito_grade *grade)
{
    if (!grade)
        return;
    free(grade->slug);
    free(grade->build_log);
    for (size_t i = 0; i < grade->n_cases; i++) {
        free(grade->cases[i].name);
        free(grade->cases[i].category);
        free(grade->cases[i].message);
    }
    free(grade->cases);
    for (size_t i = 0; i < grade->memcheck.n_findings; i++) {
        free(grade->memcheck.findings[i].case_name);
        free(grade->memcheck.findings[i].what);
        free(grade->memcheck.findings[i].where);
    }
    free(grade->memcheck.findings);
    free(grade->memcheck.message);
    for (size_t i = 0; i < grade->n_perf; i++) {
        free(grade->perf[i].metric);
        free(grade->perf[i].unit);
        free(grade->perf[i].message);
    }
    free(grade->perf);
    provenance_release(&grade->provenance);
    free(grade);
}
