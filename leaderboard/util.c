/*
 * Small helpers of the leaderboard server: text buffers with HTML and URL escaping,
 * UTC times in the one format the API uses, and the validation of what clients send.
 * Validation is strict and by whitelist: a string that passes can go into a URL, a
 * file name or a page without further thought (names still get escaped: they are free
 * text).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

/* ---------------------------------------------------------------- buffers */

static bool buf_reserve(lb_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void lb_buf_append(lb_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void lb_buf_puts(lb_buf *b, const char *s)
{
    lb_buf_append(b, s, strlen(s));
}

void lb_buf_printf(lb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        lb_buf_append(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void lb_buf_html(lb_buf *b, const char *s)
{
    const char *run = s;
    for (const char *p = s;; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep || *p == '\0') {
            lb_buf_append(b, run, (size_t)(p - run));
            if (*p == '\0')
                return;
            lb_buf_puts(b, rep);
            run = p + 1;
        }
    }
}

void lb_buf_url(lb_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            lb_buf_append(b, (const char *)p, 1);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            lb_buf_append(b, enc, 3);
        }
    }
}

char *lb_buf_take(lb_buf *b, size_t *len)
{
    if (b->failed || !buf_reserve(b, 0)) {
        lb_buf_release(b);
        return NULL;
    }
    char *data = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}

void lb_buf_release(lb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

/* ---------------------------------------------------------------- times */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil):
 * timegm() is not ISO C, and the server must not depend on the TZ setting. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

void lb_time_format(char out[32], time_t t)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 32, "1970-01-01T00:00:00Z");
        return;
    }
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool lb_time_parse(const char *s, time_t *out)
{
    /* Exactly YYYY-MM-DDTHH:MM:SSZ: 20 characters, digits where digits belong. */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    }
#define NUM2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    int year = NUM2(0) * 100 + NUM2(2), mon = NUM2(5), day = NUM2(8);
    int hour = NUM2(11), min = NUM2(14), sec = NUM2(17);
#undef NUM2
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hour > 23 ||
        min > 59 || sec > 60)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon == 2 && day == 29 && !leap)
        return false;
    long long days = days_from_civil(year, (unsigned)mon, (unsigned)day);
    *out = (time_t)(days * 86400 + hour * 3600 + min * 60 + sec);
    return true;
}

/* ---------------------------------------------------------------- validation */

bool lb_valid_hex(const char *s, size_t min_len, size_t max_len)
{
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= max_len || !((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    }
    return n >= min_len;
}

bool lb_valid_course_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (n >= LB_COURSE_ID_MAX || !(alnum || (n > 0 && (c == '.' || c == '_' || c == '-'))))
            return false;
    }
    return n > 0;
}

bool lb_valid_subject(const char *s)
{
    if (!(s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] == '_'))
        return false;
    size_t n = 3;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= LB_SUBJECT_MAX || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return n > 3;
}

/* Decode one UTF-8 character at s; returns its length (0: invalid) and the code point. */
static size_t utf8_char(const unsigned char *s, unsigned long *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    unsigned long c, min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, c = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, c = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

/* Count characters of a valid UTF-8 string without control characters; -1 if not. */
static long text_chars(const char *s, bool *blank)
{
    long chars = 0;
    *blank = true;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned long cp = 0;
        size_t n = utf8_char(p, &cp);
        if (n == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029)
            return -1;
        if (cp != ' ' && cp != 0xA0)
            *blank = false;
        p += n;
        chars++;
    }
    return chars;
}

bool lb_valid_name(const char *s, const char **why)
{
    bool blank = true;
    long chars = text_chars(s, &blank);
    if (chars < 0) {
        *why = "not valid UTF-8, or holds a control character";
        return false;
    }
    if (chars == 0 || blank) {
        *why = "empty";
        return false;
    }
    if (chars > LB_NAME_MAX_CHARS) {
        *why = "longer than 64 characters";
        return false;
    }
    return true;
}

bool lb_valid_text(const char *s, size_t max_chars)
{
    bool blank = true;
    long chars = text_chars(s, &blank);
    return chars >= 0 && (size_t)chars <= max_chars;
}

char *lb_utf8_clean(const char *s)
{
    lb_buf b = {0};
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned long cp = 0;
        size_t n = utf8_char(p, &cp);
        if (n == 0) {
            lb_buf_puts(&b, "\xEF\xBF\xBD");
            p++;
        } else {
            lb_buf_append(&b, (const char *)p, n);
            p += n;
        }
    }
    lb_buf_puts(&b, "");
    return lb_buf_take(&b, NULL);
}
