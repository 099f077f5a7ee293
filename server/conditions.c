/* server/conditions.c -- the If-* request conditions on an object, as S3 combines them.
 *
 * GET and HEAD use If-Match, If-Unmodified-Since, If-None-Match and
 * If-Modified-Since; UploadPartCopy (and CopyObject) use the same four with
 * the x-amz-copy-source- prefix, on the source. The precedence is S3's (RFC 7232):
 * If-Match decides alone when present (a true If-Match overrides a false
 * If-Unmodified-Since), and so does If-None-Match over If-Modified-Since. A date
 * that does not parse leaves its condition out, as S3 does. */
#include <stdio.h>
#include <string.h>

#include "auth/sigv2.h"
#include "server/handler.h"

/* Whether etag (quoted) is in a list of entity tags as If-Match sends them ("*", quoted or bare, comma-separated). */
static int etag_listed(const char *list, size_t len, const char *etag, size_t etag_len)
{
    const char *p = list, *end = list + len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        const char *q = p;
        while (q < end && *q != ',')
            q++;
        const char *t = q;
        while (t > p && t[-1] == ' ')
            t--;
        size_t n = (size_t)(t - p);
        if (n >= 2 && p[0] == 'W' && p[1] == '/') { /* a weak tag compares like a strong one for GET */
            p += 2;
            n -= 2;
        }
        if (n == 1 && *p == '*')
            return 1;
        if (n >= 2 && p[0] == '"' && p[n - 1] == '"' ? n == etag_len && memcmp(p, etag, n) == 0
                                                     : n + 2 == etag_len && memcmp(p, etag + 1, n) == 0)
            return 1;
        p = q;
    }
    return 0;
}

/* The header prefix + name, or NULL. */
static const char *cond_header(s3_req_t *r, const char *prefix, const char *name, size_t *len)
{
    char full[64];
    size_t p = strlen(prefix), n = strlen(name) + 1;
    if (p == 0)
        return s3_header(r, name, len);
    if (p + n > sizeof(full))
        return NULL;
    memcpy(full, prefix, p);
    memcpy(full + p, name, n);
    return s3_header(r, full, len);
}

/* Whether a date header is present, parses, and the object was modified after it. -1: absent or not a date. */
static int modified_after(s3_req_t *r, const char *prefix, const char *name, int64_t mtime)
{
    size_t len;
    time_t date;
    const char *v = cond_header(r, prefix, name, &len);
    if (v == NULL || sigv2_parse_http_date(v, len, &date) != 0)
        return -1;
    return mtime > (int64_t)date;
}

s3_cond_t s3_check_conditions(s3_req_t *r, const char *prefix, const store_object_t *obj)
{
    char etag[S3_ETAG_MAX];
    size_t etag_len = s3_format_etag(obj->md5, obj->num_parts, etag), len;
    int64_t mtime = obj->mtime_ns / 1000000000;
    const char *v;
    if ((v = cond_header(r, prefix, "if-match", &len)) != NULL) {
        if (!etag_listed(v, len, etag, etag_len))
            return S3_COND_PRECONDITION_FAILED;
    } else if (modified_after(r, prefix, "if-unmodified-since", mtime) == 1) {
        return S3_COND_PRECONDITION_FAILED;
    }
    if ((v = cond_header(r, prefix, "if-none-match", &len)) != NULL) {
        if (etag_listed(v, len, etag, etag_len))
            return S3_COND_NOT_MODIFIED;
    } else if (modified_after(r, prefix, "if-modified-since", mtime) == 0) {
        return S3_COND_NOT_MODIFIED;
    }
    return S3_COND_PASS;
}
