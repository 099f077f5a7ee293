/* tests/bench/bench_multipart.h -- coffer-bench's put-multipart mode.
 *
 * DESIGN: see bench_multipart.c. One object is uploaded as an S3 multipart
 * upload (create, parts from a pool of keep-alive connections, complete) over
 * coffer-bench's own HTTP/1.1 client, and one RESULT line is printed. */
#ifndef COFFER_BENCH_MULTIPART_H
#define COFFER_BENCH_MULTIPART_H

#include <stdint.h>

typedef struct bench_mp_config {
    const char *url;        /* http://HOST:PORT; borrowed */
    const char *bucket;     /* borrowed */
    const char *key;        /* borrowed */
    const char *access_key; /* borrowed */
    const char *secret_key; /* borrowed */
    const char *region;     /* borrowed */
    uint64_t size;          /* object size */
    uint64_t part_size;     /* every part but the last */
    int concurrency;        /* parts in flight, one connection each */
    int sign;               /* 0: unsigned requests */
    int sign_payload;       /* sign each part's SHA-256 (computed in the timed run) instead of UNSIGNED-PAYLOAD */
    int verify;             /* check every part ETag and the final ETag against MD5s computed before the run */
    int verbose;            /* request and status lines on stderr */
    double timeout;         /* seconds a socket may stall (send or receive) before the request fails */
} bench_mp_config_t;

/**
 * Uploads cfg->size bytes to BUCKET/KEY as a multipart upload and prints
 * `RESULT mode=put-multipart ...` on stdout. On a failed part the upload is
 * aborted (best effort). Returns the exit status: 0, 1 on request errors or a
 * wrong ETag, 2 on a setup failure.
 */
int bench_multipart_run(const bench_mp_config_t *cfg);

#endif
