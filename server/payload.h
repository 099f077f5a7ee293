/* server/payload.h -- the body of PutObject and UploadPart: payload hash, aws-chunked decoding, flexible checksums.
 *
 * DESIGN: the handler has already checked the request's signature; what is left
 * depends on the body and is done in two steps. s3_payload_prepare() runs on the
 * event loop and reads the headers only (which checksum, which trailer, the
 * decoded length), so a malformed request is refused before a job is queued.
 * s3_payload_verify() runs on the worker: it checks x-amz-content-sha256 against
 * a large body, decodes an aws-chunked body into slices of h2o's buffer (no copy:
 * the object's bytes stay where h2o put them), verifies the chunk and trailer
 * signatures, and computes and checks the checksum. Only when it returns
 * S3ERR_NONE may the operation store anything, so a tampered chunk or a wrong
 * checksum leaves no object behind and never lets framing or trailer bytes in. */
#ifndef COFFER_PAYLOAD_H
#define COFFER_PAYLOAD_H

#include "auth/checksum.h"
#include "server/handler.h"

typedef struct s3_payload {
    struct iovec *iov; /* the object's bytes: &one, or a malloc'ed array of slices of an aws-chunked body */
    size_t iovcnt;
    struct iovec one;
    uint64_t size;           /* after s3_payload_verify: the object's length */
    uint64_t decoded_length; /* aws-chunked: x-amz-decoded-content-length */
    cksum_alg_t alg;         /* the checksum to compute, or CKSUM_NONE */
    int expected_from;       /* 0: nothing to check against, 1: a header, 2: a trailer */
    uint8_t expected[CKSUM_MAX_DIGEST_LEN];
    char value[CKSUM_BASE64_SIZE]; /* after s3_payload_verify: the computed checksum, base64 ("" when alg is none) */
} s3_payload_t;

/**
 * Reads the body's headers into p (on the loop): x-amz-checksum-<alg>, x-amz-trailer,
 * x-amz-sdk-checksum-algorithm, x-amz-decoded-content-length. Returns S3ERR_NONE or the
 * error to answer (with *message set when AWS has a specific text).
 */
s3err_t s3_payload_prepare(s3_req_t *r, s3_payload_t *p, const char **message);

/**
 * Checks the body (on the worker) and leaves the object's bytes in p->iov. When
 * want is not CKSUM_NONE and the request named no checksum, computes that one
 * (a multipart upload created with a checksum algorithm). Returns S3ERR_NONE or
 * the error to answer; call s3_payload_free either way.
 */
s3err_t s3_payload_verify(s3_req_t *r, s3_payload_t *p, cksum_alg_t want, const char **message);

void s3_payload_free(s3_payload_t *p);

/** The computed checksum as a stored header (x-amz-checksum-<alg>: base64); returns 0 when there is none. */
size_t s3_payload_checksum_header(const s3_payload_t *p, store_kv_t *out);

/** Adds the x-amz-checksum-<alg> (and, when type is not NULL, x-amz-checksum-type) response headers of a job. */
void s3_job_set_checksum(s3_job_t *j, cksum_alg_t alg, const char *value, const char *type);

#endif
