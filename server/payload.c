/* server/payload.c -- the body of PutObject and UploadPart: payload hash, aws-chunked decoding, flexible checksums;
 * the integrity headers of small request documents. */
#include "server/payload.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
#include "server/log.h"

#define MAX_OBJECT_SIZE (5ULL << 30)
/* S3's smallest aws-chunked data chunk but the last: a body of 6-byte chunks would otherwise
 * cost a slice (and an HMAC) per byte or two, gigabytes of bookkeeping for a large upload */
#define S3_MIN_CHUNK_SIZE 8192

/* AWS's texts for a checksum value that does not decode, and for one that does not match, per algorithm. */
static const char *const invalid_value_messages[CKSUM_COUNT] = {
    [CKSUM_CRC32] = "Value for x-amz-checksum-crc32 header is invalid.",
    [CKSUM_CRC32C] = "Value for x-amz-checksum-crc32c header is invalid.",
    [CKSUM_CRC64NVME] = "Value for x-amz-checksum-crc64nvme header is invalid.",
    [CKSUM_SHA1] = "Value for x-amz-checksum-sha1 header is invalid.",
    [CKSUM_SHA256] = "Value for x-amz-checksum-sha256 header is invalid.",
};
static const char *const mismatch_messages[CKSUM_COUNT] = {
    [CKSUM_CRC32] = "The CRC32 you specified did not match the calculated checksum.",
    [CKSUM_CRC32C] = "The CRC32C you specified did not match the calculated checksum.",
    [CKSUM_CRC64NVME] = "The CRC64NVME you specified did not match the calculated checksum.",
    [CKSUM_SHA1] = "The SHA1 you specified did not match the calculated checksum.",
    [CKSUM_SHA256] = "The SHA256 you specified did not match the calculated checksum.",
};

s3err_t s3_payload_prepare(s3_req_t *r, s3_payload_t *p, const char **message)
{
    h2o_req_t *req = r->req;
    memset(p, 0, sizeof(*p));
    p->one.iov_base = req->entity.base;
    p->one.iov_len = req->entity.len;
    p->iov = &p->one;
    p->iovcnt = 1;
    p->size = req->entity.len;

    /* at most one checksum header */
    for (size_t i = 0; i < req->headers.size; ++i) {
        const h2o_header_t *h = &req->headers.entries[i];
        cksum_alg_t a = cksum_alg_from_header(h->name->base, h->name->len);
        if (a == CKSUM_NONE)
            continue;
        if (p->alg != CKSUM_NONE) {
            *message = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.";
            return S3ERR_INVALID_REQUEST;
        }
        p->alg = a;
        p->expected_from = 1;
        if (cksum_from_base64(a, h->value.base, h->value.len, p->expected) < 0) {
            *message = invalid_value_messages[a];
            return S3ERR_INVALID_REQUEST;
        }
    }

    size_t len;
    const char *v;
    if (r->streaming != NULL) {
        if ((v = s3_header(r, "x-amz-decoded-content-length", &len)) == NULL) {
            *message = "You must provide the x-amz-decoded-content-length header for aws-chunked uploads.";
            return S3ERR_MISSING_CONTENT_LENGTH;
        }
        if (s3_parse_uint(v, len, UINT64_MAX, &p->decoded_length) != 0) {
            *message = "x-amz-decoded-content-length is not a valid length.";
            return S3ERR_INVALID_ARGUMENT;
        }
        if (p->decoded_length > MAX_OBJECT_SIZE)
            return S3ERR_ENTITY_TOO_LARGE;
        if (r->streaming->mode != CHUNKED_SIGNED && (v = s3_header(r, "x-amz-trailer", &len)) != NULL) {
            cksum_alg_t a = cksum_alg_from_header(v, len);
            if (a == CKSUM_NONE) {
                *message = "The value specified in the x-amz-trailer header is not supported";
                return S3ERR_INVALID_REQUEST;
            }
            if (p->alg != CKSUM_NONE) {
                *message = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.";
                return S3ERR_INVALID_REQUEST;
            }
            p->alg = a;
            p->expected_from = 2;
        }
    }

    if ((v = s3_header(r, "x-amz-sdk-checksum-algorithm", &len)) != NULL) {
        cksum_alg_t a = cksum_alg_from_name(v, len);
        if (a == CKSUM_NONE || (p->alg != CKSUM_NONE && p->alg != a)) {
            *message = "Value for x-amz-sdk-checksum-algorithm header is invalid.";
            return S3ERR_INVALID_REQUEST;
        }
        if (p->alg == CKSUM_NONE) {
            *message = "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers "
                       "were found.";
            return S3ERR_INVALID_REQUEST;
        }
    }
    return S3ERR_NONE;
}

/* Growable list of the decoded data's slices. */
typedef struct slices {
    s3_payload_t *p;
    size_t cap;
} slices_t;

static void add_slice(void *ctx, const uint8_t *data, size_t len)
{
    slices_t *s = ctx;
    s3_payload_t *p = s->p;
    if (p->iovcnt != 0 && (const uint8_t *)p->iov[p->iovcnt - 1].iov_base + p->iov[p->iovcnt - 1].iov_len == data) {
        p->iov[p->iovcnt - 1].iov_len += len;
        return;
    }
    if (p->iovcnt == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        struct iovec *n = realloc(p->iov, s->cap * sizeof(*n));
        if (n == NULL)
            abort();
        p->iov = n;
    }
    p->iov[p->iovcnt++] = (struct iovec){(void *)data, len};
}

/* Decodes the aws-chunked body into slices of the request's buffer and checks the trailer's checksum is there. */
static s3err_t decode_chunked(s3_req_t *r, s3_payload_t *p, const char **message)
{
    const s3_streaming_t *sm = r->streaming;
    chunked_decoder_t *d = malloc(sizeof(*d));
    if (d == NULL)
        abort();
    chunked_config_t cfg = {.mode = sm->mode,
                            .signing_key = sm->signing_key,
                            .amz_date = sm->amz_date,
                            .scope = sm->scope,
                            .seed_signature = sm->seed_signature,
                            .has_max_decoded_len = 1,
                            .max_decoded_len = p->decoded_length,
                            .min_chunk_size = S3_MIN_CHUNK_SIZE};
    s3err_t err = S3ERR_NONE;
    slices_t s = {p, 0};
    p->iov = NULL;
    p->iovcnt = 0;
    chunked_status_t st = CHUNKED_E_FORMAT;
    if (chunked_init(d, &cfg) == 0) {
        st = chunked_feed(d, (const uint8_t *)r->req->entity.base, r->req->entity.len, add_slice, &s);
        if (st == CHUNKED_OK)
            st = chunked_finish(d);
    }
    p->size = chunked_decoded_length(d);
    if (st != CHUNKED_DONE) {
        log_debug("%s: aws-chunked body refused: %s", r->request_id,
                  chunked_error_reason(d) ? chunked_error_reason(d) : "bad configuration");
        if (st == CHUNKED_E_SIGNATURE) {
            err = S3ERR_SIGNATURE_DOES_NOT_MATCH;
        } else if (st == CHUNKED_E_CHUNK_SIZE) {
            err = S3ERR_INVALID_CHUNK_SIZE;
        } else if (st == CHUNKED_E_TOO_LARGE) {
            err = S3ERR_INCOMPLETE_BODY;
            *message = "The decoded body is longer than x-amz-decoded-content-length.";
        } else {
            err = S3ERR_INCOMPLETE_BODY;
            *message = "The aws-chunked body is incomplete or malformed.";
        }
    } else if (p->size != p->decoded_length) {
        err = S3ERR_INCOMPLETE_BODY;
        *message = "You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header";
    } else if (p->expected_from == 2) {
        const char *v = chunked_find_trailer(d, cksum_header_name(p->alg));
        if (v == NULL) {
            err = S3ERR_INVALID_REQUEST;
            *message = "The checksum trailer declared in x-amz-trailer was not sent.";
        } else if (cksum_from_base64(p->alg, v, strlen(v), p->expected) < 0) {
            err = S3ERR_INVALID_REQUEST;
            *message = invalid_value_messages[p->alg];
        }
    }
    if (p->iov == NULL) { /* an empty object */
        p->one = (struct iovec){(void *)"", 0};
        p->iov = &p->one;
        p->iovcnt = 1;
    }
    chunked_dispose(d);
    free(d);
    return err;
}

s3err_t s3_payload_verify(s3_req_t *r, s3_payload_t *p, cksum_alg_t want, const char **message)
{
    if (r->verify_payload_in_job) {
        char actual[65];
        sigv4_sha256_hex(r->req->entity.base, r->req->entity.len, actual);
        if (memcmp(actual, r->payload_sha256, 64) != 0)
            return S3ERR_CONTENT_SHA256_MISMATCH;
    }
    if (r->streaming != NULL) {
        s3err_t err = decode_chunked(r, p, message);
        if (err != S3ERR_NONE)
            return err;
    }
    if (p->alg == CKSUM_NONE)
        p->alg = want;
    if (p->alg == CKSUM_NONE)
        return S3ERR_NONE;
    cksum_ctx_t c;
    uint8_t digest[CKSUM_MAX_DIGEST_LEN];
    cksum_init(&c, p->alg);
    for (size_t i = 0; i < p->iovcnt; i++)
        cksum_update(&c, p->iov[i].iov_base, p->iov[i].iov_len);
    size_t n = cksum_final(&c, digest);
    if (p->expected_from != 0 && memcmp(digest, p->expected, n) != 0) {
        *message = mismatch_messages[p->alg];
        return S3ERR_BAD_DIGEST;
    }
    cksum_to_base64(digest, n, p->value);
    return S3ERR_NONE;
}

void s3_payload_free(s3_payload_t *p)
{
    if (p->iov != &p->one)
        free(p->iov);
    p->iov = NULL;
    p->iovcnt = 0;
}

size_t s3_payload_checksum_header(const s3_payload_t *p, store_kv_t *out)
{
    if (p->alg == CKSUM_NONE || p->value[0] == '\0')
        return 0;
    const char *name = cksum_header_name(p->alg);
    *out = (store_kv_t){name, strlen(name), p->value, strlen(p->value)};
    return 1;
}

void s3_job_set_checksum(s3_job_t *j, cksum_alg_t alg, const char *value, const char *type)
{
    j->cksum_alg = alg;
    snprintf(j->cksum_value, sizeof(j->cksum_value), "%s", value);
    j->cksum_type = type;
}

/* ------------------------------------------------------------------ small request documents */

s3err_t s3_integrity_prepare(s3_req_t *r, s3_integrity_t *in, int required, const char **message)
{
    size_t md5_len;
    const char *md5 = s3_header(r, "content-md5", &md5_len);
    *message = NULL;
    in->has_md5 = 0;
    if (md5 != NULL) {
        if (s3_decode_content_md5(md5, md5_len, in->md5) != 0)
            return S3ERR_INVALID_DIGEST;
        in->has_md5 = 1;
    }
    s3err_t err = s3_payload_prepare(r, &in->payload, message);
    if (err != S3ERR_NONE)
        return err;
    /* S3 requires an integrity check of some bodies; modern SDKs send a flexible checksum instead of Content-MD5 */
    if (required && !in->has_md5 && in->payload.alg == CKSUM_NONE) {
        *message = "Missing required header for this request: Content-MD5 OR x-amz-checksum-*";
        return S3ERR_INVALID_REQUEST;
    }
    return S3ERR_NONE;
}

s3err_t s3_integrity_verify(s3_req_t *r, s3_integrity_t *in, const char **message)
{
    const h2o_iovec_t body = r->req->entity;
    s3err_t err = S3ERR_NONE;
    *message = NULL;
    if (in->has_md5) {
        uint8_t md5[EVP_MAX_MD_SIZE];
        if (EVP_Digest(body.base, body.len, md5, NULL, EVP_md5(), NULL) != 1)
            abort();
        if (memcmp(md5, in->md5, sizeof(in->md5)) != 0)
            err = S3ERR_BAD_DIGEST;
    }
    if (err == S3ERR_NONE)
        err = s3_payload_verify(r, &in->payload, CKSUM_NONE, message);
    s3_payload_free(&in->payload);
    return err;
}

s3err_t s3_check_document_body(s3_req_t *r, size_t max_len, int required, const char **message)
{
    const h2o_iovec_t body = r->req->entity;
    s3_integrity_t in;
    *message = NULL;
    if (body.base == NULL || body.len == 0)
        return S3ERR_MISSING_REQUEST_BODY;
    if (body.len > max_len)
        return S3ERR_MALFORMED_XML;
    s3err_t err = s3_integrity_prepare(r, &in, required, message);
    return err != S3ERR_NONE ? err : s3_integrity_verify(r, &in, message);
}
