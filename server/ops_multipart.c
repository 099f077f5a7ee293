/* server/ops_multipart.c -- CreateMultipartUpload, UploadPart(Copy), CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads.
 *
 * DESIGN: like PutObject, UploadPart hands h2o's buffered body to storage
 * without a copy (see the lifetime rule in handler.h); UploadPartCopy reads
 * the source object chunk by chunk on the worker. Completion is a metadata
 * operation in storage (the parts' chunks become the object's). This file
 * validates parameters, maps storage's answers to S3 errors and writes XML.
 *
 * An upload records who initiated it (UPLOAD_INITIATOR_HEADER, a canonical id)
 * next to the ACL its object will have; ListParts and ListMultipartUploads show
 * them as Initiator and Owner. Uploads created before the initiator was kept,
 * or anonymously, show the bucket owner as their initiator. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/sigv4.h"
#include "server/authz.h"
#include "server/handler.h"
#include "server/payload.h"
#include "server/range.h"
#include "storage/record_cursor.h"

/* Where an upload keeps the checksum it was created with (x-amz-checksum-algorithm / -type); never an object's header. */
#define UPLOAD_ALG_HEADER "x-amz-checksum-algorithm"
#define UPLOAD_TYPE_HEADER "x-amz-checksum-type"
/* Where an upload keeps its initiator's canonical id; never an object's header. */
#define UPLOAD_INITIATOR_HEADER "x-coffer-initiator"

/* The value of a stored header, or NULL. */
static const char *kv_find(const store_kv_t *h, size_t n, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (h[i].name_len == name_len && memcmp(h[i].name, name, name_len) == 0) {
            *len = h[i].value_len;
            return h[i].value;
        }
    }
    return NULL;
}

/* The checksum algorithm and type an upload was created with (CKSUM_NONE when none). */
static cksum_alg_t upload_checksum(const store_object_t *upload, cksum_type_t *type)
{
    size_t len;
    const char *v = kv_find(upload->headers, upload->num_headers, UPLOAD_ALG_HEADER, &len);
    cksum_alg_t a = v != NULL ? cksum_alg_from_name(v, len) : CKSUM_NONE;
    v = kv_find(upload->headers, upload->num_headers, UPLOAD_TYPE_HEADER, &len);
    *type = a != CKSUM_NONE && v != NULL ? cksum_type_from_name(v, len) : CKSUM_TYPE_NONE;
    return *type != CKSUM_TYPE_NONE ? a : CKSUM_NONE;
}

int s3_parse_part_number(const char *v, size_t len, uint32_t *out)
{
    uint64_t n;
    if (s3_parse_uint(v, len, STORE_MAX_PARTS, &n) != 0 || n < 1)
        return -1;
    *out = (uint32_t)n;
    return 0;
}

static store_upload_ref_t upload_ref(s3_req_t *r)
{
    store_upload_ref_t u = {.bucket = r->route.bucket, .key = r->route.key, .key_len = r->route.key_len};
    u.upload_id = route_param(&r->route, "uploadId", &u.upload_id_len);
    return u;
}

/* ------------------------------------------------------------------ create */

typedef struct create_state {
    store_kv_t headers[S3_STORED_HEADERS_MAX + 3]; /* + the checksum algorithm and type, the initiator */
    size_t num_headers;
    cksum_alg_t alg;
    cksum_type_t type;
} create_state_t;

static void run_create(s3_job_t *j)
{
    s3_req_t *r = j->r;
    create_state_t *cs = (create_state_t *)j->extra;
    char id[STORE_UPLOAD_ID_LEN + 1];
    int rc = store_upload_create(r->thread->server->store, r->route.bucket, r->route.key, r->route.key_len, cs->headers,
                                 cs->num_headers, id);
    if (rc != 0) {
        j->err = s3err_from_store(rc);
        return;
    }
    xmlw_t *w = &j->xml;
    xmlw_init(w);
    xmlw_open(w, "InitiateMultipartUploadResult " S3_XMLNS);
    xmlw_elem(w, "Bucket", r->route.bucket, r->route.bucket_len);
    xmlw_elem(w, "Key", r->route.key, r->route.key_len);
    xmlw_elem_str(w, "UploadId", id);
    xmlw_close(w, "InitiateMultipartUploadResult");
    j->has_xml = 1;
    if (cs->alg != CKSUM_NONE) {
        j->header_name = UPLOAD_ALG_HEADER;
        snprintf(j->header_value, sizeof(j->header_value), "%s", cksum_alg_name(cs->alg));
        j->cksum_type = cksum_type_name(cs->type);
    }
}

/* Reads x-amz-checksum-algorithm and x-amz-checksum-type of CreateMultipartUpload. Returns S3ERR_NONE or the error. */
static s3err_t parse_upload_checksum(s3_req_t *r, create_state_t *cs, const char **message)
{
    size_t alen, tlen;
    const char *a = s3_header(r, UPLOAD_ALG_HEADER, &alen), *t = s3_header(r, UPLOAD_TYPE_HEADER, &tlen);
    if (a != NULL && (cs->alg = cksum_alg_from_name(a, alen)) == CKSUM_NONE) {
        *message = "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, "
                   "CRC64NVME, SHA1, SHA256]";
        return S3ERR_INVALID_REQUEST;
    }
    if (t != NULL && (cs->type = cksum_type_from_name(t, tlen)) == CKSUM_TYPE_NONE) {
        *message = "Value for x-amz-checksum-type header is invalid.";
        return S3ERR_INVALID_REQUEST;
    }
    if (t != NULL && a == NULL) {
        *message = "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.";
        return S3ERR_INVALID_REQUEST;
    }
    if (cs->alg == CKSUM_NONE)
        return S3ERR_NONE;
    if (cs->type == CKSUM_TYPE_NONE)
        cs->type = cs->alg == CKSUM_CRC64NVME ? CKSUM_TYPE_FULL_OBJECT : CKSUM_TYPE_COMPOSITE;
    if (!cksum_type_allowed(cs->alg, cs->type)) {
        *message = cs->type == CKSUM_TYPE_FULL_OBJECT ? "The FULL_OBJECT checksum type cannot be used with this checksum algorithm."
                                                      : "The COMPOSITE checksum type cannot be used with this checksum algorithm.";
        return S3ERR_INVALID_REQUEST;
    }
    const char *an = cksum_alg_name(cs->alg), *tn = cksum_type_name(cs->type);
    cs->headers[cs->num_headers++] = (store_kv_t){H2O_STRLIT(UPLOAD_ALG_HEADER), an, strlen(an)};
    cs->headers[cs->num_headers++] = (store_kv_t){H2O_STRLIT(UPLOAD_TYPE_HEADER), tn, strlen(tn)};
    return S3ERR_NONE;
}

void ops_create_multipart_upload(s3_req_t *r)
{
    s3_job_t *j = s3_job_new(r, run_create, sizeof(create_state_t));
    create_state_t *cs = (create_state_t *)j->extra;
    const char *message = NULL;
    s3err_t err = s3_collect_stored_headers(r, cs->headers, &cs->num_headers, &message);
    if (err == S3ERR_NONE)
        err = parse_upload_checksum(r, cs, &message);
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return;
    }
    if (r->authenticated) /* r->user outlives the job */
        cs->headers[cs->num_headers++] =
            (store_kv_t){H2O_STRLIT(UPLOAD_INITIATOR_HEADER), r->user.canonical_id, strlen(r->user.canonical_id)};
    s3_job_start(j);
}

/* ------------------------------------------------------------------ upload part (and copy) */

typedef struct part_state {
    store_part_put_t put;
    s3_payload_t payload;
    store_kv_t checksum; /* the part's checksum, kept in its record */
    uint8_t expected_md5[16];
    /* UploadPartCopy: the source, and its conditions */
    char *src_bucket; /* pool memory */
    const char *src_key;
    size_t src_key_len;
    const char *src_range;
    size_t src_range_len;
} part_state_t;

/* Parses x-amz-copy-source-range "bytes=first-last" (both required). Returns 0 or -1. */
static int parse_copy_range(const char *v, size_t len, uint64_t *first, uint64_t *last)
{
    if (len < 6 || memcmp(v, "bytes=", 6) != 0)
        return -1;
    const char *dash = memchr(v + 6, '-', len - 6);
    if (dash == NULL || s3_parse_uint(v + 6, (size_t)(dash - v - 6), UINT64_MAX, first) != 0 ||
        s3_parse_uint(dash + 1, (size_t)(v + len - dash - 1), UINT64_MAX, last) != 0 || *last < *first)
        return -1;
    return 0;
}

/*
 * Checks a part's body and its checksum. An upload created with a checksum
 * algorithm gets that checksum for every part: checked when the client sent
 * it, computed when it did not, so the object's checksum can be formed at
 * completion. Returns S3ERR_NONE or the error.
 */
static s3err_t verify_part_body(s3_job_t *j, part_state_t *ps)
{
    s3_req_t *r = j->r;
    store_object_t upload;
    cksum_type_t type;
    cksum_alg_t want = CKSUM_NONE;
    int rc = store_upload_get(r->thread->server->store, &ps->put.upload, &upload);
    if (rc != 0)
        return s3err_from_store(rc);
    want = upload_checksum(&upload, &type);
    store_object_free(&upload);
    if (want != CKSUM_NONE && ps->payload.alg != CKSUM_NONE && ps->payload.alg != want) {
        j->err_message = "Checksum Type mismatch occurred: the part's checksum algorithm is not the upload's.";
        return S3ERR_INVALID_REQUEST;
    }
    s3err_t err = s3_payload_verify(r, &ps->payload, want, &j->err_message);
    if (err != S3ERR_NONE)
        return err;
    ps->put.body = ps->payload.iov;
    ps->put.body_iovcnt = ps->payload.iovcnt;
    ps->put.num_headers = s3_payload_checksum_header(&ps->payload, &ps->checksum);
    ps->put.headers = &ps->checksum;
    return S3ERR_NONE;
}

/* UploadPartCopy: looks the source up, checks its conditions and range, and stores the part.
 * Returns the storage result (-EAGAIN: the source changed under the copy, try again) or 0 with j->err set. */
static int copy_part_once(s3_job_t *j, part_state_t *ps, store_object_t *src, store_object_t *part)
{
    store_t *st = j->r->thread->server->store;
    int rc;
    store_object_free(src);
    if ((rc = store_object_get(st, ps->src_bucket, ps->src_key, ps->src_key_len, src)) != 0)
        return rc;
    if ((j->err = authz_source(j->r, ps->src_bucket, ps->src_key, ps->src_key_len, src)) != S3ERR_NONE)
        return 0;
    if (s3_check_conditions(j->r, "x-amz-copy-source-", src) != S3_COND_PASS) {
        j->err = S3ERR_PRECONDITION_FAILED;
        return 0;
    }
    uint64_t first = 0, last = src->size ? src->size - 1 : 0;
    if (ps->src_range != NULL && (parse_copy_range(ps->src_range, ps->src_range_len, &first, &last) != 0 || last >= src->size)) {
        j->err = S3ERR_INVALID_ARGUMENT;
        j->err_message = "Range specified is not valid for source object";
        return 0;
    }
    ps->put.copy_source = src;
    ps->put.copy_offset = first;
    ps->put.copy_len = src->size ? last - first + 1 : 0;
    return store_part_put(st, &ps->put, part);
}

static void run_upload_part(s3_job_t *j)
{
    s3_req_t *r = j->r;
    part_state_t *ps = (part_state_t *)j->extra;
    store_object_t src = {0}, part;
    int rc = -EAGAIN;

    if (ps->src_bucket == NULL) {
        if ((j->err = verify_part_body(j, ps)) != S3ERR_NONE)
            goto Exit;
        /* a part racing an abort or a completion is refused by storage, after its data is written */
        rc = store_part_put(r->thread->server->store, &ps->put, &part);
    } else {
        for (int attempt = 0; attempt < S3_COPY_ATTEMPTS && rc == -EAGAIN; attempt++)
            rc = copy_part_once(j, ps, &src, &part);
    }
    if (j->err != S3ERR_NONE)
        goto Exit;
    if (rc != 0) {
        j->err = rc == -EINVAL ? S3ERR_INVALID_ARGUMENT : rc == -EAGAIN ? S3ERR_SERVICE_UNAVAILABLE : s3err_from_store(rc);
        goto Exit;
    }
    s3_format_etag(part.md5, 0, j->etag);
    if (ps->put.num_headers != 0)
        s3_job_set_checksum(j, ps->payload.alg, ps->payload.value, NULL);
    if (ps->src_bucket != NULL) {
        j->etag[0] = '\0'; /* in the XML instead */
        xmlw_t *w = &j->xml;
        xmlw_init(w);
        xmlw_open(w, "CopyPartResult " S3_XMLNS);
        xmlw_elem_time(w, "LastModified", part.mtime_ns);
        xmlw_elem_etag(w, "ETag", part.md5);
        xmlw_close(w, "CopyPartResult");
        j->has_xml = 1;
    }
Exit:
    s3_payload_free(&ps->payload);
    store_object_free(&src);
}

/* Reads x-amz-copy-source and x-amz-copy-source-range into ps. Returns S3ERR_NONE or the error. */
static s3err_t parse_copy_source(s3_req_t *r, part_state_t *ps, const char **message)
{
    s3_copy_source_t src;
    s3err_t err = s3_parse_copy_source(r, &src, message);
    if (err != S3ERR_NONE)
        return err;
    ps->src_bucket = src.bucket;
    ps->src_key = src.key;
    ps->src_key_len = src.key_len;
    ps->src_range = s3_header(r, "x-amz-copy-source-range", &ps->src_range_len);
    return S3ERR_NONE;
}

void ops_upload_part(s3_req_t *r)
{
    h2o_req_t *req = r->req;
    int copy = r->route.op == S3OP_UPLOAD_PART_COPY;
    const char *message = NULL;
    s3err_t err = S3ERR_NONE;
    s3_job_t *j = s3_job_new(r, run_upload_part, sizeof(part_state_t));
    part_state_t *ps = (part_state_t *)j->extra;
    size_t pn_len;
    const char *pn = route_param(&r->route, "partNumber", &pn_len);

    ps->put.upload = upload_ref(r);
    if (s3_parse_part_number(pn, pn_len, &ps->put.part_number) != 0) {
        err = S3ERR_INVALID_ARGUMENT;
        message = "Part number must be an integer between 1 and 10000, inclusive";
    } else if (copy) {
        err = parse_copy_source(r, ps, &message);
    } else if (req->entity.base == NULL) {
        err = S3ERR_MISSING_CONTENT_LENGTH;
    } else {
        size_t md5_len;
        const char *md5 = s3_header(r, "content-md5", &md5_len);
        if (md5 != NULL && s3_decode_content_md5(md5, md5_len, ps->expected_md5) != 0)
            err = S3ERR_INVALID_DIGEST;
        else if (md5 != NULL)
            ps->put.expected_md5 = ps->expected_md5;
        if (err == S3ERR_NONE)
            err = s3_payload_prepare(r, &ps->payload, &message);
    }
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return;
    }
    s3_job_start(j);
}

/* ------------------------------------------------------------------ complete */

typedef struct complete_state {
    store_complete_part_t *parts; /* owned */
    size_t num_parts;
    xml_complete_part_t *xml_parts; /* owned: the checksums the client has for the parts */
    /* the object's checksum, decided by complete_hook */
    cksum_alg_t alg;
    cksum_type_t type;
    char value[CKSUM_COMPOSITE_SIZE];
    store_kv_t *headers;       /* owned array: the object's headers */
    store_precondition_t cond; /* If-None-Match / If-Match on the object the completion replaces */
    int has_cond;
} complete_state_t;

/* A part's checksum of algorithm a, decoded from its record. Returns the digest length, or -1 when it has none. */
static int part_digest(const store_object_t *part, cksum_alg_t a, uint8_t out[CKSUM_MAX_DIGEST_LEN])
{
    size_t len;
    const char *v = kv_find(part->headers, part->num_headers, cksum_header_name(a), &len);
    return v != NULL ? cksum_from_base64(a, v, len, out) : -1;
}

/*
 * Under the upload's lock: checks the checksums the client listed against the parts',
 * and forms the object's checksum from the parts' (COMPOSITE: the checksum of their
 * digests; FULL_OBJECT: their CRCs combined), without reading any data.
 */
static int complete_hook(void *ctx, const store_object_t *upload, const store_object_t *const *parts, size_t num_parts,
                         const store_kv_t **headers, size_t *num_headers, size_t *bad_part)
{
    complete_state_t *cs = ctx;
    uint8_t digest[CKSUM_MAX_DIGEST_LEN], given[CKSUM_MAX_DIGEST_LEN];
    for (size_t i = 0; i < num_parts; i++) {
        const xml_complete_part_t *x = &cs->xml_parts[i];
        if (x->checksum_alg == CKSUM_NONE)
            continue;
        int n = part_digest(parts[i], x->checksum_alg, digest);
        if (n < 0 || cksum_from_base64(x->checksum_alg, x->checksum, strlen(x->checksum), given) != n ||
            memcmp(digest, given, (size_t)n) != 0) {
            *bad_part = i;
            return STORE_E_INVALID_PART;
        }
    }

    cs->alg = upload_checksum(upload, &cs->type);
    if (cs->alg != CKSUM_NONE) {
        cksum_ctx_t c;
        uint8_t acc[CKSUM_MAX_DIGEST_LEN] = {0};
        size_t dlen = cksum_digest_len(cs->alg);
        if (cs->type == CKSUM_TYPE_COMPOSITE)
            cksum_init(&c, cs->alg);
        for (size_t i = 0; i < num_parts && cs->alg != CKSUM_NONE; i++) {
            if (part_digest(parts[i], cs->alg, digest) < 0) /* an UploadPartCopy part: no checksum to build on */
                cs->alg = CKSUM_NONE;
            else if (cs->type == CKSUM_TYPE_COMPOSITE)
                cksum_update(&c, digest, dlen);
            else
                cksum_combine(cs->alg, acc, digest, parts[i]->size, acc);
        }
        if (cs->type == CKSUM_TYPE_COMPOSITE) {
            size_t n = cksum_final(&c, acc);
            if (cs->alg != CKSUM_NONE)
                cksum_format_composite(acc, n, (unsigned)num_parts, cs->value);
        } else if (cs->alg != CKSUM_NONE) {
            cksum_to_base64(acc, dlen, cs->value);
        }
    }

    /* the upload's headers, less its checksum settings and initiator, plus the object's checksum and type */
    cs->headers = calloc(upload->num_headers + 2, sizeof(*cs->headers));
    if (cs->headers == NULL)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < upload->num_headers; i++) {
        const store_kv_t *h = &upload->headers[i];
        if (!(h->name_len > 15 && memcmp(h->name, "x-amz-checksum-", 15) == 0) &&
            !h2o_memis(h->name, h->name_len, H2O_STRLIT(UPLOAD_INITIATOR_HEADER)))
            cs->headers[n++] = *h;
    }
    if (cs->alg != CKSUM_NONE) {
        const char *name = cksum_header_name(cs->alg), *type = cksum_type_name(cs->type);
        cs->headers[n++] = (store_kv_t){name, strlen(name), cs->value, strlen(cs->value)};
        cs->headers[n++] = (store_kv_t){H2O_STRLIT(UPLOAD_TYPE_HEADER), type, strlen(type)};
    }
    *headers = cs->headers;
    *num_headers = n;
    return 0;
}

static void run_complete(s3_job_t *j)
{
    s3_req_t *r = j->r;
    complete_state_t *cs = (complete_state_t *)j->extra;
    store_upload_ref_t u = upload_ref(r);
    store_object_t obj;
    size_t bad;
    store_complete_hook_t hook = {complete_hook, cs};
    int rc = store_upload_complete(r->thread->server->store, &u, cs->parts, cs->num_parts, &hook, cs->has_cond ? &cs->cond : NULL,
                                   &obj, &bad);
    free(cs->parts);
    free(cs->xml_parts);
    free(cs->headers);
    if (rc != 0) {
        j->err = rc == -EINVAL ? S3ERR_MALFORMED_XML : s3err_from_store(rc);
        if (rc == STORE_E_ENTITY_TOO_SMALL)
            j->err_message = "Your proposed upload is smaller than the minimum allowed size";
        return;
    }
    const char *host = r->req->authority.base; /* h2o keeps Host here, not among the headers */
    size_t host_len = r->req->authority.len;
    char *enc = malloc(3 * (r->route.key_len + r->route.bucket_len) + 2);
    if (enc == NULL)
        abort();
    size_t n = sigv4_uri_encode(r->route.bucket, r->route.bucket_len, 1, enc);
    enc[n++] = '/';
    n += sigv4_uri_encode(r->route.key, r->route.key_len, 1, enc + n);

    size_t loc_cap = 8 + (host ? host_len : 0) + n;
    char *loc = malloc(loc_cap + 1);
    if (loc == NULL)
        abort();
    int m = snprintf(loc, loc_cap + 1, "http://%.*s/%.*s", (int)(host ? host_len : 0), host ? host : "", (int)n, enc);

    xmlw_t *w = &j->xml;
    xmlw_init(w);
    xmlw_open(w, "CompleteMultipartUploadResult " S3_XMLNS);
    xmlw_elem(w, "Location", loc, (size_t)m);
    free(loc);
    xmlw_elem(w, "Bucket", r->route.bucket, r->route.bucket_len);
    xmlw_elem(w, "Key", r->route.key, r->route.key_len);
    xmlw_elem_etag_parts(w, "ETag", obj.md5, obj.num_parts);
    if (cs->alg != CKSUM_NONE) {
        char tag[32];
        snprintf(tag, sizeof(tag), "Checksum%s", cksum_alg_name(cs->alg));
        xmlw_elem_str(w, tag, cs->value);
        xmlw_elem_str(w, "ChecksumType", cksum_type_name(cs->type));
        s3_job_set_checksum(j, cs->alg, cs->value, cksum_type_name(cs->type));
    }
    xmlw_close(w, "CompleteMultipartUploadResult");
    j->has_xml = 1;
    free(enc);
}

void ops_complete_multipart_upload(s3_req_t *r)
{
    h2o_req_t *req = r->req;
    store_precondition_t cond = {0};
    const char *message = NULL;
    s3err_t err = s3_parse_write_conditions(r, &cond, &message);
    if (err != S3ERR_NONE) {
        s3_send_error(r, err, message);
        return;
    }
    xml_complete_part_t *xp = malloc(STORE_MAX_PARTS * sizeof(*xp));
    if (xp == NULL)
        abort();
    int n = req->entity.base != NULL ? xml_parse_complete_multipart(req->entity.base, req->entity.len, xp, STORE_MAX_PARTS) : -1;
    if (n <= 0) {
        free(xp);
        s3_send_error(r, S3ERR_MALFORMED_XML, NULL);
        return;
    }
    s3_job_t *j = s3_job_new(r, run_complete, sizeof(complete_state_t));
    complete_state_t *cs = (complete_state_t *)j->extra;
    cs->cond = cond;
    cs->has_cond = cond.if_none_match || cond.if_match; /* checked under the key's lock; a refusal leaves the upload */
    cs->parts = calloc((size_t)n, sizeof(*cs->parts));
    if (cs->parts == NULL)
        abort();
    cs->num_parts = (size_t)n;
    for (int i = 0; i < n; i++) {
        cs->parts[i].part_number = xp[i].part_number;
        uint32_t num_parts;
        if (s3_parse_etag(xp[i].etag, strlen(xp[i].etag), cs->parts[i].md5, &num_parts) != 0 || num_parts != 0)
            memset(cs->parts[i].md5, 0xFF, 16); /* matches no part: InvalidPart, after order and existence */
    }
    cs->xml_parts = realloc(xp, (size_t)n * sizeof(*xp));
    if (cs->xml_parts == NULL)
        abort();
    s3_job_start(j);
}

/* ------------------------------------------------------------------ abort */

static void run_abort(s3_job_t *j)
{
    store_upload_ref_t u = upload_ref(j->r);
    int rc = store_upload_abort(j->r->thread->server->store, &u);
    if (rc != 0)
        j->err = s3err_from_store(rc);
    j->status = 204;
}

void ops_abort_multipart_upload(s3_req_t *r)
{
    s3_job_start(s3_job_new(r, run_abort, 0));
}

/* ------------------------------------------------------------------ list parts */

typedef struct parts_state {
    uint32_t marker;
    size_t max_parts;
    int url_encode;
} parts_state_t;

typedef struct parts_walk {
    xmlw_t parts;
    uint32_t last;
} parts_walk_t;

static int on_part(void *ctx, const store_part_info_t *p)
{
    parts_walk_t *pw = ctx;
    xmlw_open(&pw->parts, "Part");
    xmlw_elem_u64(&pw->parts, "PartNumber", p->part_number);
    xmlw_elem_time(&pw->parts, "LastModified", p->mtime_ns);
    xmlw_elem_etag(&pw->parts, "ETag", p->md5);
    xmlw_elem_u64(&pw->parts, "Size", p->size);
    for (cksum_alg_t a = CKSUM_CRC32; a < CKSUM_COUNT; a++) {
        size_t len;
        const char *v = kv_find(p->headers, p->num_headers, cksum_header_name(a), &len);
        if (v != NULL) {
            char tag[32];
            snprintf(tag, sizeof(tag), "Checksum%s", cksum_alg_name(a));
            xmlw_elem(&pw->parts, tag, v, len);
        }
    }
    xmlw_close(&pw->parts, "Part");
    pw->last = p->part_number;
    return 0;
}

/* Writes an upload's Initiator and Owner from its stored headers (initiator, acl: NULL when absent). */
static void write_upload_owners(s3_req_t *r, xmlw_t *w, authz_owners_t *owners, const char *initiator, size_t initiator_len,
                                const char *acl, size_t acl_len)
{
    const authz_owner_t *o = authz_owner_by_id(r, owners, initiator, initiator_len);
    s3_xml_owner_id(w, "Initiator", o->id, o->name);
    o = authz_owner_of_acl(r, owners, acl, acl_len);
    s3_xml_owner_id(w, "Owner", o->id, o->name);
}

static void run_list_parts(s3_job_t *j)
{
    s3_req_t *r = j->r;
    parts_state_t *ps = (parts_state_t *)j->extra;
    store_upload_ref_t u = upload_ref(r);
    parts_walk_t pw = {.last = ps->marker};
    store_object_t upload;
    int truncated = 0;
    int rc = store_upload_get(r->thread->server->store, &u, &upload); /* its initiator and ACL; zeroed on an error */
    if (rc == 0)
        rc = store_part_list(r->thread->server->store, &u, ps->marker, ps->max_parts, on_part, &pw, &truncated);
    if (rc != 0) {
        j->err = s3err_from_store(rc);
        xmlw_free(&pw.parts);
        store_object_free(&upload);
        return;
    }
    xmlw_t *w = &j->xml;
    xmlw_init(w);
    xmlw_open(w, "ListPartsResult " S3_XMLNS);
    xmlw_elem(w, "Bucket", r->route.bucket, r->route.bucket_len);
    s3_xml_key(w, "Key", r->route.key, r->route.key_len, ps->url_encode);
    xmlw_elem(w, "UploadId", u.upload_id, u.upload_id_len);
    authz_owners_t owners = {0};
    size_t initiator_len = 0, acl_len = 0;
    const char *initiator = kv_find(upload.headers, upload.num_headers, UPLOAD_INITIATOR_HEADER, &initiator_len);
    const char *acl = kv_find(upload.headers, upload.num_headers, AUTHZ_ACL_HEADER, &acl_len);
    write_upload_owners(r, w, &owners, initiator, initiator_len, acl, acl_len);
    xmlw_elem_str(w, "StorageClass", "STANDARD");
    xmlw_elem_u64(w, "PartNumberMarker", ps->marker);
    xmlw_elem_u64(w, "NextPartNumberMarker", pw.last);
    xmlw_elem_u64(w, "MaxParts", ps->max_parts);
    if (ps->url_encode)
        xmlw_elem_str(w, "EncodingType", "url");
    xmlw_elem_str(w, "IsTruncated", truncated ? "true" : "false");
    if (pw.parts.len != 0)
        xmlw_raw(w, pw.parts.buf, pw.parts.len);
    xmlw_close(w, "ListPartsResult");
    xmlw_free(&pw.parts);
    store_object_free(&upload);
    j->has_xml = 1;
}

void ops_list_parts(s3_req_t *r)
{
    s3_job_t *j = s3_job_new(r, run_list_parts, sizeof(parts_state_t));
    parts_state_t *ps = (parts_state_t *)j->extra;
    const char *message = NULL, *v;
    size_t len;
    uint64_t marker = 0;
    ps->max_parts = S3_LIST_MAX;
    if ((v = route_param(&r->route, "max-parts", &len)) != NULL && s3_parse_list_limit(v, len, &ps->max_parts) != 0)
        message = "Provided max-parts not an integer or within integer range";
    else if ((v = route_param(&r->route, "part-number-marker", &len)) != NULL && len != 0 &&
             s3_parse_uint(v, len, INT32_MAX, &marker) != 0)
        message = "Provided part-number-marker not an integer or within integer range";
    else if (s3_parse_encoding_type(r, &ps->url_encode) != 0)
        message = "Invalid Encoding Method specified in Request";
    if (message != NULL) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, message);
        return;
    }
    ps->marker = marker > STORE_MAX_PARTS ? STORE_MAX_PARTS : (uint32_t)marker; /* no part after the last number */
    s3_job_start(j);
}

/* ------------------------------------------------------------------ list uploads */

typedef struct uploads_state {
    store_upload_list_params_t params;
    size_t max_uploads;
    int url_encode;
} uploads_state_t;

typedef struct uploads_walk {
    s3_job_t *job;
    xmlw_t uploads, prefixes;
    store_cursor_t *records; /* owned: the uploads' records, for their initiators and ACLs */
    authz_owners_t owners;
    char last_key[STORE_KEY_MAX];
    size_t last_key_len;
    char last_id[STORE_UPLOAD_ID_LEN + 1];
} uploads_walk_t;

static int on_upload(void *ctx, const store_upload_entry_t *e)
{
    uploads_walk_t *uw = ctx;
    uploads_state_t *us = (uploads_state_t *)uw->job->extra;
    if (e->is_prefix) {
        xmlw_open(&uw->prefixes, "CommonPrefixes");
        s3_xml_key(&uw->prefixes, "Prefix", e->key, e->key_len, us->url_encode);
        xmlw_close(&uw->prefixes, "CommonPrefixes");
        uw->last_id[0] = '\0';
    } else {
        xmlw_t *w = &uw->uploads;
        xmlw_open(w, "Upload");
        s3_xml_key(w, "Key", e->key, e->key_len, us->url_encode);
        xmlw_elem_str(w, "UploadId", e->upload_id);
        const char *initiator = NULL, *acl = NULL;
        size_t initiator_len = 0, acl_len = 0;
        if (store_cursor_find_upload(uw->records, e->key, e->key_len, e->upload_id) == 0) {
            initiator = store_cursor_header(uw->records, H2O_STRLIT(UPLOAD_INITIATOR_HEADER), &initiator_len);
            acl = store_cursor_header(uw->records, H2O_STRLIT(AUTHZ_ACL_HEADER), &acl_len);
        }
        write_upload_owners(uw->job->r, w, &uw->owners, initiator, initiator_len, acl, acl_len);
        xmlw_elem_str(w, "StorageClass", "STANDARD");
        xmlw_elem_time(w, "Initiated", e->initiated_ns);
        xmlw_close(w, "Upload");
        memcpy(uw->last_id, e->upload_id, sizeof(uw->last_id));
    }
    memcpy(uw->last_key, e->key, e->key_len);
    uw->last_key_len = e->key_len;
    return 0;
}

static void run_list_uploads(s3_job_t *j)
{
    s3_req_t *r = j->r;
    uploads_state_t *us = (uploads_state_t *)j->extra;
    const store_upload_list_params_t *p = &us->params;
    uploads_walk_t *uw = calloc(1, sizeof(*uw));
    if (uw == NULL)
        abort();
    uw->job = j;
    uw->records = store_cursor_new(r->thread->server->store, r->route.bucket, STORE_CURSOR_UPLOADS);
    int truncated = 0;
    int rc = store_upload_list(r->thread->server->store, p, on_upload, uw, &truncated);
    if (rc != 0) {
        j->err = s3err_from_store(rc);
        goto Exit;
    }
    xmlw_t *w = &j->xml;
    xmlw_init(w);
    xmlw_open(w, "ListMultipartUploadsResult " S3_XMLNS);
    xmlw_elem(w, "Bucket", r->route.bucket, r->route.bucket_len);
    s3_xml_key(w, "KeyMarker", p->key_marker ? p->key_marker : "", p->key_marker ? p->key_marker_len : 0, us->url_encode);
    xmlw_elem(w, "UploadIdMarker", p->upload_id_marker ? p->upload_id_marker : "",
              p->upload_id_marker ? p->upload_id_marker_len : 0);
    if (truncated) {
        s3_xml_key(w, "NextKeyMarker", uw->last_key, uw->last_key_len, us->url_encode);
        xmlw_elem_str(w, "NextUploadIdMarker", uw->last_id);
    }
    if (p->delimiter != NULL)
        s3_xml_key(w, "Delimiter", p->delimiter, p->delimiter_len, us->url_encode);
    s3_xml_key(w, "Prefix", p->prefix ? p->prefix : "", p->prefix ? p->prefix_len : 0, us->url_encode);
    xmlw_elem_u64(w, "MaxUploads", us->max_uploads);
    if (us->url_encode)
        xmlw_elem_str(w, "EncodingType", "url");
    xmlw_elem_str(w, "IsTruncated", truncated ? "true" : "false");
    if (uw->uploads.len != 0)
        xmlw_raw(w, uw->uploads.buf, uw->uploads.len);
    if (uw->prefixes.len != 0)
        xmlw_raw(w, uw->prefixes.buf, uw->prefixes.len);
    xmlw_close(w, "ListMultipartUploadsResult");
    j->has_xml = 1;
Exit:
    store_cursor_free(uw->records);
    xmlw_free(&uw->uploads);
    xmlw_free(&uw->prefixes);
    free(uw);
}

void ops_list_multipart_uploads(s3_req_t *r)
{
    s3_job_t *j = s3_job_new(r, run_list_uploads, sizeof(uploads_state_t));
    uploads_state_t *us = (uploads_state_t *)j->extra;
    store_upload_list_params_t *p = &us->params;
    const char *message = NULL, *v;
    size_t len;
    us->max_uploads = S3_LIST_MAX;
    if ((v = route_param(&r->route, "max-uploads", &len)) != NULL && s3_parse_list_limit(v, len, &us->max_uploads) != 0)
        message = "Provided max-uploads not an integer or within integer range";
    else if (s3_parse_encoding_type(r, &us->url_encode) != 0)
        message = "Invalid Encoding Method specified in Request";
    if (message != NULL) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, message);
        return;
    }
    p->bucket = r->route.bucket;
    p->max_uploads = us->max_uploads;
    p->prefix = route_param(&r->route, "prefix", &p->prefix_len);
    p->delimiter = route_param(&r->route, "delimiter", &p->delimiter_len);
    if (p->delimiter != NULL && p->delimiter_len == 0)
        p->delimiter = NULL;
    p->key_marker = route_param(&r->route, "key-marker", &p->key_marker_len);
    if (p->key_marker != NULL && p->key_marker_len == 0)
        p->key_marker = NULL;
    p->upload_id_marker = route_param(&r->route, "upload-id-marker", &p->upload_id_marker_len);
    if (p->key_marker == NULL || (p->upload_id_marker != NULL && p->upload_id_marker_len == 0))
        p->upload_id_marker = NULL; /* meaningless without a key marker */
    s3_job_start(j);
}
