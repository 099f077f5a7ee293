/* auth/text.h -- small text helpers shared by the signers and the form and policy parsers:
 * ASCII case folding that ignores the locale, hex digits, and a bounded output buffer. */
#ifndef COFFER_TEXT_H
#define COFFER_TEXT_H

#include <stddef.h>
#include <string.h>

/** ASCII lower case; any other byte unchanged (unlike tolower(), whatever the locale). */
static inline int text_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/** Whether two byte strings are equal ignoring ASCII case. */
static inline int text_ieq(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len != b_len)
        return 0;
    for (size_t i = 0; i < a_len; i++) {
        if (text_lower((unsigned char)a[i]) != text_lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/** Whether a byte string equals a NUL-terminated one, ignoring ASCII case. */
static inline int text_ieq_str(const char *a, size_t a_len, const char *lit)
{
    return text_ieq(a, a_len, lit, strlen(lit));
}

/** Writes len bytes as 2 * len lower-case hex digits into dst (no NUL). */
static inline void text_hex(const unsigned char *src, size_t len, char *dst)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        dst[2 * i] = digits[src[i] >> 4];
        dst[2 * i + 1] = digits[src[i] & 15];
    }
}

/** Whether s is exactly len hex digits (either case) and len is want. */
static inline int text_is_hex(const char *s, size_t len, size_t want)
{
    if (len != want)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

/** Whether the string s is exactly want lower-case hex digits (a canonical id, a signature as sent). */
static inline int text_is_lower_hex(const char *s, size_t want)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == want && s[n] == '\0';
}

/** A bounded output buffer: once a write does not fit, every later write is dropped and overflow stays set. */
typedef struct text_out {
    char *buf;
    size_t len, cap;
    int overflow;
} text_out_t;

static inline void text_out_bytes(text_out_t *o, const char *s, size_t n)
{
    if (o->overflow || o->cap - o->len < n) {
        o->overflow = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static inline void text_out_char(text_out_t *o, char c)
{
    text_out_bytes(o, &c, 1);
}

#endif
