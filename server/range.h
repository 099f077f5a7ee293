/* server/range.h -- the HTTP Range header as S3 reads it (pure). */
#ifndef COFFER_RANGE_H
#define COFFER_RANGE_H

#include <stddef.h>
#include <stdint.h>

typedef enum range_result {
    RANGE_NONE = 0,      /* absent, malformed or multi-range: S3 ignores it and sends the whole object */
    RANGE_OK,            /* [*first, *last] inclusive is to be sent with 206 */
    RANGE_UNSATISFIABLE, /* 416 InvalidRange */
} range_result_t;

/** Parses "bytes=a-b", "bytes=a-" or "bytes=-n" against an object of size bytes. */
range_result_t range_parse(const char *value, size_t len, uint64_t size, uint64_t *first, uint64_t *last);

#endif
