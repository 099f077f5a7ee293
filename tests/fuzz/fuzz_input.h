/* tests/fuzz/fuzz_input.h -- how a fuzz target cuts its one input into a parser's arguments.
 *
 * DESIGN: a target reads its input front to back: a selector or flag byte, then text fields that
 * each end at a line feed, then the rest, which may hold any byte. Seeds thus stay readable text
 * (an Authorization header, a request head, an XML body) and a mutation of one field stays in that
 * field. A field is never handed to a parser inside libFuzzer's buffer: each is copied into a heap
 * block of exactly its length, so AddressSanitizer reports a read one byte past a field instead of
 * letting the parser wander into the next one. Allocation failure aborts, as in the server. */
#ifndef COFFER_FUZZ_INPUT_H
#define COFFER_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/sigv4.h"
#include "server/router.h"

typedef struct fuzz_input {
    const uint8_t *p; /* borrowed: libFuzzer's buffer */
    size_t left;
} fuzz_input_t;

/** The next byte, or 0 when the input is used up. */
static inline uint8_t fuzz_byte(fuzz_input_t *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

/** The next two bytes as a little-endian number (missing bytes count as 0). */
static inline uint16_t fuzz_u16(fuzz_input_t *in)
{
    uint16_t lo = fuzz_byte(in);
    return (uint16_t)(lo | fuzz_byte(in) << 8);
}

/** The next n bytes (fewer when the input ends first; *len says how many); borrowed from the input. */
static inline const uint8_t *fuzz_bytes(fuzz_input_t *in, size_t n, size_t *len)
{
    const uint8_t *p = in->p;
    *len = n < in->left ? n : in->left;
    in->p += *len;
    in->left -= *len;
    return p;
}

/** The bytes up to the next '\n' (consumed, not included) or to the end; borrowed from the input. */
static inline const char *fuzz_line(fuzz_input_t *in, size_t *len)
{
    const uint8_t *nl = memchr(in->p, '\n', in->left);
    const char *s = (const char *)fuzz_bytes(in, nl != NULL ? (size_t)(nl - in->p) : in->left, len);
    if (nl != NULL)
        fuzz_byte(in);
    return s;
}

/** Everything left; borrowed from the input. */
static inline const char *fuzz_rest(fuzz_input_t *in, size_t *len)
{
    return (const char *)fuzz_bytes(in, in->left, len);
}

/** A heap copy of exactly len bytes, not NUL-terminated (free() it). */
static inline char *fuzz_dup(const void *p, size_t len)
{
    char *s = malloc(len != 0 ? len : 1);
    if (s == NULL)
        abort();
    if (len != 0)
        memcpy(s, p, len);
    return s;
}

/** A heap copy of len bytes and a NUL (free() it). */
static inline char *fuzz_strdup(const void *p, size_t len)
{
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    if (len != 0)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

/** Whether a heap copy's bytes [p, p + n) lie within [base, base + len). */
static inline int fuzz_within(const void *p, size_t n, const void *base, size_t len)
{
    const char *c = p, *b = base;
    return c >= b && n <= len && (size_t)(c - b) <= len - n;
}

#define FUZZ_MAX_HEADERS 64

/** A request head as a server would receive it; every string is its own heap block (fuzz_head_free). */
typedef struct fuzz_head {
    char *method; /* owned */
    size_t method_len;
    char *target; /* owned: the request target as sent, path and query */
    size_t target_len;
    size_t num_headers;
    sigv4_header_t headers[FUZZ_MAX_HEADERS]; /* names and values owned */
    route_t *route;                           /* owned: set by fuzz_head_route */
    char *scratch;                            /* owned: the route's decoded names */
} fuzz_head_t;

/**
 * Reads "METHOD SP target [SP version]" and then "name: value" lines up to an empty line or the end
 * (CRLF or LF; blanks around a value dropped; a line without ':' or past FUZZ_MAX_HEADERS skipped),
 * lower-casing names when lower_names is set, as h2o hands them over.
 */
static inline void fuzz_head_read(fuzz_input_t *in, int lower_names, fuzz_head_t *h)
{
    size_t len;
    const char *line = fuzz_line(in, &len);

    if (len != 0 && line[len - 1] == '\r')
        len--;
    const char *sp = memchr(line, ' ', len);
    const char *target = sp != NULL ? sp + 1 : line + len;
    const char *target_end = memchr(target, ' ', (size_t)(line + len - target));
    if (target_end == NULL)
        target_end = line + len;
    h->method_len = sp != NULL ? (size_t)(sp - line) : len;
    h->method = fuzz_dup(line, h->method_len);
    h->target_len = (size_t)(target_end - target);
    h->target = fuzz_dup(target, h->target_len);
    h->num_headers = 0;
    h->route = NULL;
    h->scratch = NULL;
    while (in->left != 0) {
        line = fuzz_line(in, &len);
        if (len != 0 && line[len - 1] == '\r')
            len--;
        if (len == 0)
            break;
        const char *colon = memchr(line, ':', len);
        if (colon == NULL || h->num_headers == FUZZ_MAX_HEADERS)
            continue;
        const char *v = colon + 1, *end = line + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        sigv4_header_t *hd = &h->headers[h->num_headers++];
        char *name = fuzz_dup(line, (size_t)(colon - line));
        for (size_t i = 0; lower_names && i < (size_t)(colon - line); i++)
            name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        hd->name = name;
        hd->name_len = (size_t)(colon - line);
        hd->value = fuzz_dup(v, (size_t)(end - v));
        hd->value_len = (size_t)(end - v);
    }
}

/** The first header named name (ASCII case-insensitive), or NULL. */
static inline const sigv4_header_t *fuzz_head_find(const fuzz_head_t *h, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < h->num_headers; i++) {
        if (h->headers[i].name_len == len && strncasecmp(h->headers[i].name, name, len) == 0)
            return &h->headers[i];
    }
    return NULL;
}

/** Routes h as the server does (its Host header; domain may be NULL). Returns the route (freed with h), or NULL when refused. */
static inline const route_t *fuzz_head_route(fuzz_head_t *h, const char *domain)
{
    const sigv4_header_t *host = fuzz_head_find(h, "host");
    router_input_t ri = {
        .method = h->method,
        .method_len = h->method_len,
        .path = h->target,
        .path_len = h->target_len,
        .host = host != NULL ? host->value : NULL,
        .host_len = host != NULL ? host->value_len : 0,
        .domain = domain,
        .domain_len = domain != NULL ? strlen(domain) : 0,
    };
    h->route = malloc(sizeof(*h->route));
    h->scratch = malloc(ROUTER_SCRATCH_LEN(h->target_len));
    if (h->route == NULL || h->scratch == NULL)
        abort();
    return router_route(&ri, h->route, h->scratch, ROUTER_SCRATCH_LEN(h->target_len)) == S3ERR_NONE ? h->route : NULL;
}

static inline void fuzz_head_free(fuzz_head_t *h)
{
    free(h->route);
    free(h->scratch);
    free(h->method);
    free(h->target);
    for (size_t i = 0; i < h->num_headers; i++) {
        free((char *)h->headers[i].name);
        free((char *)h->headers[i].value);
    }
    h->num_headers = 0;
}

#endif
