/* server/range.c -- single byte ranges, with AWS's answers for the odd cases:
 * a syntactically bad or multi-part Range is ignored (200, whole object), a
 * first byte at or past the end is 416, a last byte past the end is clamped,
 * and a suffix longer than the object means the whole object. */
#include "server/range.h"

#include <string.h>

static int parse_u64(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (s == end || *s < '0' || *s > '9')
        return -1;
    for (; s < end && *s >= '0' && *s <= '9'; ++s) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return 0;
}

range_result_t range_parse(const char *value, size_t len, uint64_t size, uint64_t *first, uint64_t *last)
{
    const char *p = value, *end = value + len;
    while (p < end && *p == ' ')
        ++p;
    if ((size_t)(end - p) < 7 || strncmp(p, "bytes=", 6) != 0)
        return RANGE_NONE;
    p += 6;
    while (end > p && end[-1] == ' ')
        --end;
    if (memchr(p, ',', (size_t)(end - p)) != NULL)
        return RANGE_NONE;
    uint64_t a, b;
    if (*p == '-') { /* suffix: the last n bytes */
        ++p;
        if (parse_u64(&p, end, &b) != 0 || p != end)
            return RANGE_NONE;
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return RANGE_OK;
    }
    if (parse_u64(&p, end, &a) != 0 || p == end || *p++ != '-')
        return RANGE_NONE;
    if (p == end) {
        b = UINT64_MAX;
    } else if (parse_u64(&p, end, &b) != 0 || p != end || b < a) {
        return RANGE_NONE;
    }
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    *first = a;
    *last = b >= size ? size - 1 : b;
    return RANGE_OK;
}
