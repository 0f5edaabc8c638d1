/*
 * Terminal output for tito: the colour decision is made once per stream at start-up,
 * so every message of a run looks the same, and a pipe or a file never receives
 * escape sequences unless asked for.
 */
#define _POSIX_C_SOURCE 200809L

#include "term.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool color_out, color_err;

static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

static bool decide(int fd)
{
    if (env_set("NO_COLOR"))
        return false;
    const char *force = getenv("CLICOLOR_FORCE");
    if (force && *force && strcmp(force, "0") != 0)
        return true;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fd) == 1;
}

void tito_term_init(void)
{
    color_out = decide(STDOUT_FILENO);
    color_err = decide(STDERR_FILENO);
}

bool tito_term_color(FILE *stream)
{
    return stream == stderr ? color_err : stream == stdout ? color_out : false;
}

const char *tito_sgr(FILE *stream, tito_style style)
{
    if (!tito_term_color(stream))
        return "";
    switch (style) {
    case TITO_STYLE_RESET: return "\033[0m";
    case TITO_STYLE_BOLD: return "\033[1m";
    case TITO_STYLE_DIM: return "\033[2m";
    case TITO_STYLE_RED: return "\033[31m";
    case TITO_STYLE_GREEN: return "\033[32m";
    case TITO_STYLE_YELLOW: return "\033[33m";
    case TITO_STYLE_CYAN: return "\033[36m";
    }
    return "";
}

static void report(tito_style style, const char *label, const char *fmt, va_list ap)
{
    fflush(stdout); /* keep the order of stdout and stderr when both go to one terminal */
    fprintf(stderr, "tito: %s%s:%s ", tito_sgr(stderr, style), label,
            tito_sgr(stderr, TITO_STYLE_RESET));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tito_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(TITO_STYLE_RED, "error", fmt, ap);
    va_end(ap);
}

void tito_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(TITO_STYLE_YELLOW, "warning", fmt, ap);
    va_end(ap);
}
