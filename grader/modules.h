/*
 * grader/modules.h: the module table of reference/modules.def, as C data.
 *
 * Everything in the grader and in tito that needs to name a module (starters, builds,
 * suites, help texts) walks this array, so a module added to modules.def appears
 * everywhere at the next build and no second list can drift from the first.
 */
#ifndef TITO_MODULES_H
#define TITO_MODULES_H

#include <stddef.h>

typedef struct tito_module {
    int number;        /* 1, 2, ... */
    const char *slug;  /* "01_tensor": folder names, guide names */
    const char *name;  /* "tensor": reference/src/<name>.c, tinytorch/<name>.h */
    int tier;
    const char *title; /* one line for listings */
} tito_module;

/* The modules in curriculum order. */
extern const tito_module tito_modules[];
extern const size_t tito_module_count;

/* The module whose number, slug or name is `key` ("1", "01", "01_tensor", "tensor"),
 * or NULL when none is. */
const tito_module *tito_module_find(const char *key);

/* The module numbered `number`, or NULL. */
const tito_module *tito_module_numbered(int number);

#endif /* TITO_MODULES_H */
