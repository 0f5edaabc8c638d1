/*
 * tests/receipts/xmlcheck.h: a small XML 1.0 well-formedness checker for the tests of
 * the JUnit exporter, so that the tests do not need an XML library.
 *
 * It accepts what the exporter may write and rejects what would break a real parser:
 * an optional <?xml ...?> declaration, one root element, start/end/empty tags with
 * matching names, attributes quoted with " or ' (no '<', no raw '&'), no duplicate
 * attribute names on one element, character data without '<' or a raw '&', the five
 * predefined entities and numeric character references (to allowed characters), and
 * UTF-8 text made only of XML characters. Comments, CDATA, DOCTYPE and processing
 * instructions other than the declaration are refused (the exporter writes none).
 * On failure `why` holds the byte offset and the reason.
 */
#ifndef TT_TESTS_XMLCHECK_H
#define TT_TESTS_XMLCHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct xmlcheck {
    const unsigned char *s;
    size_t pos, len;
    char why[200];
} xmlcheck;

static bool xc_fail(xmlcheck *x, const char *reason)
{
    snprintf(x->why, sizeof x->why, "offset %zu: %s", x->pos, reason);
    return false;
}

static bool xc_is_char(unsigned long cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Decode one UTF-8 character at pos; false on a bad sequence. */
static bool xc_next(xmlcheck *x, unsigned long *cp, size_t *n)
{
    const unsigned char *p = x->s + x->pos;
    size_t left = x->len - x->pos;
    if (p[0] < 0x80) {
        *cp = p[0];
        *n = 1;
    } else {
        size_t k = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
        if (k == 0 || k > left)
            return false;
        unsigned long v = p[0] & (0x7F >> k);
        for (size_t i = 1; i < k; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            v = (v << 6) | (p[i] & 0x3F);
        }
        if ((k == 2 && v < 0x80) || (k == 3 && v < 0x800) || (k == 4 && v < 0x10000))
            return false;
        *cp = v;
        *n = k;
    }
    return xc_is_char(*cp);
}

static bool xc_name_start(unsigned char c)
{
    return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool xc_name_char(unsigned char c)
{
    return xc_name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9');
}

static bool xc_name(xmlcheck *x, char *out, size_t size)
{
    size_t start = x->pos;
    if (x->pos >= x->len || !xc_name_start(x->s[x->pos]))
        return xc_fail(x, "expected a name");
    while (x->pos < x->len && xc_name_char(x->s[x->pos]))
        x->pos++;
    size_t n = x->pos - start;
    if (n >= size)
        return xc_fail(x, "name too long for the checker");
    memcpy(out, x->s + start, n);
    out[n] = '\0';
    return true;
}

static void xc_space(xmlcheck *x)
{
    while (x->pos < x->len && strchr(" \t\r\n", x->s[x->pos]))
        x->pos++;
}

/* An entity or character reference starting at '&'. */
static bool xc_reference(xmlcheck *x)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++) {
        size_t n = strlen(named[i]);
        if (x->len - x->pos >= n && memcmp(x->s + x->pos, named[i], n) == 0) {
            x->pos += n;
            return true;
        }
    }
    if (x->len - x->pos >= 3 && x->s[x->pos + 1] == '#') {
        size_t p = x->pos + 2;
        int base = 10;
        if (x->s[p] == 'x') {
            base = 16;
            p++;
        }
        unsigned long v = 0;
        size_t digits = 0;
        for (; p < x->len && x->s[p] != ';'; p++, digits++) {
            unsigned char c = x->s[p];
            int d = c >= '0' && c <= '9' ? c - '0' : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : base == 16 && c >= 'A' && c <= 'F'                           ? c - 'A' + 10
                                                                                   : -1;
            if (d < 0 || v > 0x10FFFF)
                return xc_fail(x, "bad character reference");
            v = v * (unsigned long)base + (unsigned long)d;
        }
        if (p >= x->len || digits == 0 || !xc_is_char(v))
            return xc_fail(x, "character reference to a non-XML character");
        x->pos = p + 1;
        return true;
    }
    return xc_fail(x, "'&' that starts no known reference");
}

static bool xc_text_until(xmlcheck *x, unsigned char stop)
{
    while (x->pos < x->len && x->s[x->pos] != stop) {
        unsigned char c = x->s[x->pos];
        if (c == '<')
            return xc_fail(x, "'<' inside text or an attribute");
        if (c == '&') {
            if (!xc_reference(x))
                return false;
            continue;
        }
        unsigned long cp;
        size_t n;
        if (!xc_next(x, &cp, &n))
            return xc_fail(x, "not UTF-8, or not an XML character");
        x->pos += n;
    }
    return true;
}

static bool xmlcheck_document(xmlcheck *x, const char *text)
{
    x->s = (const unsigned char *)text;
    x->len = strlen(text);
    x->pos = 0;
    x->why[0] = '\0';
    char stack[64][64];
    int depth = 0;
    bool seen_root = false;
    if (x->len >= 5 && memcmp(text, "<?xml", 5) == 0) {
        const char *end = strstr(text, "?>");
        if (!end)
            return xc_fail(x, "unterminated XML declaration");
        x->pos = (size_t)(end - text) + 2;
    }
    for (;;) {
        if (depth == 0)
            xc_space(x);
        if (x->pos >= x->len)
            break;
        if (x->s[x->pos] != '<') {
            if (depth == 0)
                return xc_fail(x, "text outside the root element");
            if (!xc_text_until(x, '<'))
                return false;
            continue;
        }
        x->pos++;
        if (x->pos < x->len && x->s[x->pos] == '/') {
            x->pos++;
            char name[64];
            if (!xc_name(x, name, sizeof name))
                return false;
            xc_space(x);
            if (x->pos >= x->len || x->s[x->pos] != '>')
                return xc_fail(x, "expected '>' closing an end tag");
            x->pos++;
            if (depth == 0 || strcmp(stack[depth - 1], name) != 0)
                return xc_fail(x, "end tag does not match the open element");
            depth--;
            continue;
        }
        if (x->pos < x->len && (x->s[x->pos] == '!' || x->s[x->pos] == '?'))
            return xc_fail(x, "comments, CDATA, DOCTYPE and PIs are not expected");
        if (depth == 0 && seen_root)
            return xc_fail(x, "a second root element");
        char name[64];
        if (!xc_name(x, name, sizeof name))
            return false;
        char attrs[32][64];
        int n_attrs = 0;
        for (;;) {
            size_t before = x->pos;
            xc_space(x);
            if (x->pos >= x->len)
                return xc_fail(x, "unterminated start tag");
            if (x->s[x->pos] == '>' || x->s[x->pos] == '/')
                break;
            if (x->pos == before)
                return xc_fail(x, "attributes must be separated by space");
            char attr[64];
            if (!xc_name(x, attr, sizeof attr))
                return false;
            for (int i = 0; i < n_attrs; i++)
                if (strcmp(attrs[i], attr) == 0)
                    return xc_fail(x, "duplicate attribute");
            if (n_attrs < 32)
                snprintf(attrs[n_attrs++], sizeof attrs[0], "%s", attr);
            xc_space(x);
            if (x->pos >= x->len || x->s[x->pos] != '=')
                return xc_fail(x, "expected '=' after an attribute name");
            x->pos++;
            xc_space(x);
            unsigned char q = x->pos < x->len ? x->s[x->pos] : 0;
            if (q != '"' && q != '\'')
                return xc_fail(x, "attribute value not quoted");
            x->pos++;
            if (!xc_text_until(x, q))
                return false;
            if (x->pos >= x->len)
                return xc_fail(x, "unterminated attribute value");
            x->pos++;
        }
        bool empty = x->s[x->pos] == '/';
        if (empty) {
            x->pos++;
            if (x->pos >= x->len || x->s[x->pos] != '>')
                return xc_fail(x, "expected '>' after '/'");
        }
        x->pos++;
        if (depth == 0)
            seen_root = true;
        if (!empty) {
            if (depth == 64)
                return xc_fail(x, "nesting too deep for the checker");
            snprintf(stack[depth++], sizeof stack[0], "%s", name);
        }
    }
    if (depth != 0)
        return xc_fail(x, "elements left open at the end");
    if (!seen_root)
        return xc_fail(x, "no root element");
    return true;
}

#endif /* TT_TESTS_XMLCHECK_H */
