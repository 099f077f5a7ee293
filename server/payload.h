/* server/payload.h -- the body of PutObject and UploadPart: payload hash, aws-chunked decoding, flexible checksums;
 * the integrity headers (Content-MD5, x-amz-checksum-*) of small request documents.
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
 * checksum leaves no object behind and never lets framing or trailer bytes in.
 * The bodies of DeleteObjects and of the Put*Tagging and bucket configuration
 * requests go through the same two steps with Content-MD5 added (s3_integrity_*),
 * so the integrity check of a request document is written once. */
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

/* ------------------------------------------------------------------ small request documents */

/** What a request says its body hashes to: Content-MD5 and/or an x-amz-checksum-* header. */
typedef struct s3_integrity {
    int has_md5;
    uint8_t md5[16]; /* with has_md5: the decoded Content-MD5 */
    s3_payload_t payload;
} s3_integrity_t;

/**
 * Reads the body's integrity headers into in (on the loop): Content-MD5 (InvalidDigest when it
 * is not base64 of 16 bytes), then the checksum headers as s3_payload_prepare does. With
 * required, one of the two must be there (InvalidRequest, "Missing required header for this
 * request: Content-MD5 OR x-amz-checksum-*": DeleteObjects, PutBucketTagging). Returns
 * S3ERR_NONE or the error with *message (NULL: AWS's default); nothing to free either way.
 */
s3err_t s3_integrity_prepare(s3_req_t *r, s3_integrity_t *in, int required, const char **message);

/**
 * Checks the body against what s3_integrity_prepare read (on the loop or a worker): BadDigest
 * when it does not match Content-MD5, then s3_payload_verify's errors. Returns S3ERR_NONE or the
 * error with *message (NULL: AWS's default), and frees in's payload either way.
 */
s3err_t s3_integrity_verify(s3_req_t *r, s3_integrity_t *in, const char **message);

/**
 * Checks a small document body on the loop (PutObjectTagging, PutBucketTagging,
 * PutBucketOwnershipControls, PutPublicAccessBlock): present and not empty
 * (MissingRequestBodyError), at most max_len bytes (MalformedXML), then its integrity headers
 * (required or not) and the body against them, as s3_integrity_prepare and s3_integrity_verify.
 * Returns S3ERR_NONE or the error with *message (NULL: AWS's default).
 */
s3err_t s3_check_document_body(s3_req_t *r, size_t max_len, int required, const char **message);

/** The computed checksum as a stored header (x-amz-checksum-<alg>: base64); returns 0 when there is none. */
size_t s3_payload_checksum_header(const s3_payload_t *p, store_kv_t *out);

/** Adds the x-amz-checksum-<alg> (and, when type is not NULL, x-amz-checksum-type) response headers of a job. */
void s3_job_set_checksum(s3_job_t *j, cksum_alg_t alg, const char *value, const char *type);

#endif
