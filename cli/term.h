/*
 * cli/term.h: tito's terminal output: colour when (and only when) a person is
 * watching, and one format for errors and warnings.
 *
 * Colour is used on a stream only if it is a terminal, NO_COLOR is unset or empty
 * (https://no-color.org) and TERM is not "dumb". CLICOLOR_FORCE=1 turns it on for a
 * stream that is not a terminal (tests, `less -R`), but NO_COLOR still wins.
 */
#ifndef TITO_TERM_H
#define TITO_TERM_H

#include <stdbool.h>
#include <stdio.h>

typedef enum tito_style {
    TITO_STYLE_RESET,
    TITO_STYLE_BOLD,
    TITO_STYLE_DIM,
    TITO_STYLE_RED,    /* errors, failures */
    TITO_STYLE_GREEN,  /* success */
    TITO_STYLE_YELLOW, /* warnings, things that changed */
    TITO_STYLE_CYAN,   /* names of files and commands */
} tito_style;

/* Decide colour for stdout and stderr from the environment (call once, early). */
void tito_term_init(void);

/* Whether `stream` (stdout or stderr) gets colour. */
bool tito_term_color(FILE *stream);

/* The escape sequence for `style` on `stream`, or "" when it gets no colour:
 *     printf("%sok%s\n", tito_sgr(stdout, TITO_STYLE_GREEN), tito_sgr(stdout, TITO_STYLE_RESET)); */
const char *tito_sgr(FILE *stream, tito_style style);

/* "tito: error: <message>" and "tito: warning: <message>" on stderr, with a newline. */
void tito_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void tito_warning(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif /* TITO_TERM_H */
