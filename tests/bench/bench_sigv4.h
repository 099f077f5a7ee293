/* tests/bench/bench_sigv4.h -- AWS Signature V4 (header auth) for coffer-bench's own HTTP client.
 *
 * DESIGN: every mode of coffer-bench signs here: the libcurl modes set the
 * headers this makes, and the multipart mode talks HTTP over its own sockets
 * (to send a part as one writev of headers and data). Only what S3 needs: service "s3", signed headers host,
 * x-amz-content-sha256 and x-amz-date, the payload hash taken from the
 * x-amz-content-sha256 value (a real SHA-256, UNSIGNED-PAYLOAD, or the hash
 * of the empty body). It is separate from auth/sigv4.c on purpose: a client
 * that shared the server's signer would agree with the server's mistakes. */
#ifndef COFFER_BENCH_SIGV4_H
#define COFFER_BENCH_SIGV4_H

#include <stddef.h>
#include <time.h>

#define BENCH_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define BENCH_AMZ_DATE_LEN 16 /* 20240131T235959Z */

typedef struct bench_sigv4_creds {
    const char *access_key; /* borrowed */
    const char *secret_key; /* borrowed */
    const char *region;     /* borrowed */
} bench_sigv4_creds_t;

/** One query parameter, not yet encoded; value "" for a bare sub-resource such as `uploads`. */
typedef struct bench_query_param {
    const char *key;   /* borrowed */
    const char *value; /* borrowed */
} bench_query_param_t;

/**
 * URI-encodes src the SigV4 way: unreserved characters (A-Z a-z 0-9 - . _ ~)
 * as they are, '/' as is when keep_slash, every other byte as %XX (upper case).
 * Returns the length written (NUL-terminated), or -1 when dst is too small.
 */
long bench_uri_encode(const char *src, int keep_slash, char *dst, size_t dst_len);

/**
 * Builds a request's query twice: `wire` for the request line, in the given
 * order, an empty-valued parameter as a bare key (`?uploads`, as the SDKs send
 * it); `canonical` for the signature, sorted by encoded key then value, each
 * parameter as `key=value` (so `uploads` becomes `uploads=`). Returns 0, or
 * -1 when a buffer is too small.
 */
int bench_sigv4_query(const bench_query_param_t *params, size_t num_params, char *wire, size_t wire_len, char *canonical,
                      size_t canonical_len);

/** Writes the x-amz-date value for t (UTC, YYYYMMDDTHHMMSSZ). */
void bench_sigv4_amz_date(time_t t, char out[BENCH_AMZ_DATE_LEN + 1]);

/** Writes the lower-case hex SHA-256 of data. */
void bench_sha256_hex(const void *data, size_t len, char out[65]);

/**
 * Writes the Authorization header value for a request whose path is
 * canonical_uri (already URI-encoded) and whose canonical query came from
 * bench_sigv4_query, signing host, x-amz-content-sha256 (= payload_hash) and
 * x-amz-date (= amz_date). Returns 0, or -1 when out is too small.
 */
int bench_sigv4_authorization(const bench_sigv4_creds_t *creds, const char *method, const char *canonical_uri,
                              const char *canonical_query, const char *host, const char *payload_hash, const char *amz_date,
                              char *out, size_t out_len);

#endif
