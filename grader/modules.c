/*
 * The module table compiled from reference/modules.def. The slug is "NN_name", so the
 * name is the slug past its three-character "NN_" prefix; CMake's reader of the same
 * file (cmake/TinyTorch.cmake) refuses any entry of another shape, so the build
 * fails before this could point into the wrong place.
 */
#include "modules.h"

#include <stdlib.h>
#include <string.h>

const tito_module tito_modules[] = {
#define TT_MODULE(number, slug, tier, title) {number, slug, slug + 3, tier, title},
#include "modules.def"
#undef TT_MODULE
};

const size_t tito_module_count = sizeof tito_modules / sizeof tito_modules[0];

const tito_module *tito_module_find(const char *key)
{
    if (!key || !*key)
        return NULL;
    char *end = NULL;
    long number = strtol(key, &end, 10);
    for (size_t i = 0; i < tito_module_count; i++) {
        const tito_module *m = &tito_modules[i];
        if (*end == '\0' && end != key && number == m->number)
            return m;
        if (strcmp(key, m->slug) == 0 || strcmp(key, m->name) == 0)
            return m;
    }
    return NULL;
}

const tito_module *tito_module_numbered(int number)
{
    for (size_t i = 0; i < tito_module_count; i++)
        if (tito_modules[i].number == number)
            return &tito_modules[i];
    return NULL;
}
