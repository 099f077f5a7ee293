/* server/ops_copy.c -- CopyObject, and the x-amz-copy-source parser it shares with UploadPartCopy.
 *
 * DESIGN: a copy reads no data. The worker looks the source up, checks the
 * x-amz-copy-source-if-* conditions against it, and asks storage for a new
 * record that references the source's chunks (each gains a reference in the
 * same synced batch). The copy keeps the source's ETag, size, part layout and
 * checksum, since its bytes are the same. If the source is replaced between
 * the lookup and the commit and its chunks are freed, storage refuses the
 * copy and the worker looks the source up again.
 *
 * As in S3, a copy is a single-part object: copying a multipart object reads
 * its data once (still sharing its chunks) for the MD5 that becomes the
 * copy's ETag, and for a full-object checksum in place of a composite one.
 * The same pass computes the checksum x-amz-checksum-algorithm asks for. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
#include "server/authz.h"
#include "server/handler.h"
#include "server/tagging.h"

#define COPY_SOURCE_MAX (5ull * 1024 * 1024 * 1024) /* larger objects are copied with UploadPartCopy */

s3err_t s3_parse_copy_source(s3_req_t *r, s3_copy_source_t *src, const char **message)
{
    size_t len;
    const char *v = s3_header(r, "x-amz-copy-source", &len);
    const char *q = v != NULL ? memchr(v, '?', len) : NULL;
    if (v == NULL) {
        *message = "Copy Source must mention the source bucket and key: sourcebucket/sourcekey";
        return S3ERR_INVALID_ARGUMENT;
    }
    if (q != NULL) { /* ?versionId=<id>: every object of an unversioned bucket is version "null" */
        static const char vid[] = "?versionId=";
        size_t qlen = (size_t)(v + len - q);
        if (qlen < sizeof(vid) - 1 || memcmp(q, vid, sizeof(vid) - 1) != 0) {
            *message = "Unsupported copy source parameter.";
            return S3ERR_INVALID_ARGUMENT;
        }
        if (!h2o_memis(q + sizeof(vid) - 1, qlen - (sizeof(vid) - 1), H2O_STRLIT("null")))
            return S3ERR_NO_SUCH_VERSION;
        len = (size_t)(q - v);
    }
    if (len > 0 && v[0] == '/')
        v++, len--;
    char *d = h2o_mem_alloc_pool(&r->req->pool, len + 1);
    long dn = sigv4_uri_decode(v, len, d);
    if (dn < 0) {
        *message = "Invalid copy source encoding";
        return S3ERR_INVALID_ARGUMENT;
    }
    const char *slash = memchr(d, '/', (size_t)dn);
    if (slash == NULL || slash == d || (size_t)(slash - d) > STORE_BUCKET_NAME_MAX || slash + 1 == d + dn) {
        *message = "Copy Source must mention the source bucket and key: sourcebucket/sourcekey";
        return S3ERR_INVALID_ARGUMENT;
    }
    if (!router_bucket_name_valid(d, (size_t)(slash - d))) {
        *message = "Invalid copy source bucket name";
        return S3ERR_INVALID_ARGUMENT;
    }
    src->bucket = d;
    src->bucket[slash - d] = '\0'; /* the '/' becomes the bucket's terminator */
    src->key = slash + 1;
    src->key_len = (size_t)(d + dn - src->key);
    if (src->key_len > STORE_KEY_MAX)
        return S3ERR_KEY_TOO_LONG;
    return S3ERR_NONE;
}

typedef struct copy_state {
    s3_copy_source_t src;
    int replace_metadata;
    int replace_tagging;
    store_precondition_t cond; /* If-None-Match / If-Match on the destination */
    int has_cond;
    cksum_alg_t want_alg; /* x-amz-checksum-algorithm, or CKSUM_NONE */
    char cksum_value[CKSUM_BASE64_SIZE];
    size_t num_request_headers; /* REPLACE: the request's headers, collected on the loop */
    store_kv_t headers[S3_STORED_HEADERS_MAX + 8];
} copy_state_t;

/* x-amz-*-directive: COPY (the default, 0) or REPLACE (1). Returns 0, or -1 for any other value. */
static int parse_directive(s3_req_t *r, const char *name, int *replace)
{
    size_t len;
    const char *v = s3_header(r, name, &len);
    *replace = 0;
    if (v == NULL || h2o_memis(v, len, H2O_STRLIT("COPY")))
        return 0;
    if (h2o_memis(v, len, H2O_STRLIT("REPLACE"))) {
        *replace = 1;
        return 0;
    }
    return -1;
}

static int is_header(const store_kv_t *h, const char *name)
{
    return h2o_memis(h->name, h->name_len, name, strlen(name));
}

static int is_checksum_header(const store_kv_t *h)
{
    return h->name_len > 15 && memcmp(h->name, "x-amz-checksum-", 15) == 0;
}

/*
 * The copy's headers: the source's (COPY) or the request's (REPLACE) content headers and
 * metadata, the source's checksum when keep_checksum (the bytes are the same), and the tags
 * the tagging directive picks. Returns how many were written to out.
 */
static size_t copy_headers(const copy_state_t *cs, const store_object_t *src, int keep_checksum, store_kv_t *out)
{
    size_t n = 0;
    if (cs->replace_metadata) {
        for (size_t i = 0; i < cs->num_request_headers; i++)
            if (cs->replace_tagging || !is_header(&cs->headers[i], TAGGING_HEADER))
                out[n++] = cs->headers[i];
    }
    for (size_t i = 0; i < src->num_headers; i++) {
        const store_kv_t *h = &src->headers[i];
        int keep = is_checksum_header(h)            ? keep_checksum
                   : is_header(h, TAGGING_HEADER)   ? !cs->replace_tagging
                   : is_header(h, AUTHZ_ACL_HEADER) ? 0 /* a copy gets the request's ACL and owner, never the source's */
                                                    : !cs->replace_metadata;
        if (keep && n < S3_STORED_HEADERS_MAX + 4)
            out[n++] = *h;
    }
    if (!cs->replace_metadata) { /* with the source's metadata: the request's ACL, and its tags when replaced */
        for (size_t i = 0; i < cs->num_request_headers; i++)
            if ((cs->replace_tagging && is_header(&cs->headers[i], TAGGING_HEADER)) || is_header(&cs->headers[i], AUTHZ_ACL_HEADER))
                out[n++] = cs->headers[i];
    }
    return n;
}

/* <Checksum<ALG>> and <ChecksumType> of the copy, from its stored headers. */
static void write_checksum(xmlw_t *w, const store_kv_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cksum_alg_t a = cksum_alg_from_header(h[i].name, h[i].name_len);
        if (a != CKSUM_NONE) {
            char tag[32];
            snprintf(tag, sizeof(tag), "Checksum%s", cksum_alg_name(a));
            xmlw_elem(w, tag, h[i].value, h[i].value_len);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (is_header(&h[i], "x-amz-checksum-type"))
            xmlw_elem(w, "ChecksumType", h[i].value, h[i].value_len);
}

/* The source's checksum algorithm and whether it is a full-object one (else composite, or none). */
static cksum_alg_t source_checksum(const store_object_t *src, int *full_object)
{
    cksum_alg_t alg = CKSUM_NONE;
    *full_object = 1;
    for (size_t i = 0; i < src->num_headers; i++) {
        const store_kv_t *h = &src->headers[i];
        if (is_header(h, "x-amz-checksum-type"))
            *full_object = cksum_type_from_name(h->value, h->value_len) != CKSUM_TYPE_COMPOSITE;
        else if (is_checksum_header(h))
            alg = cksum_alg_from_header(h->name, h->name_len);
    }
    return alg;
}

/* Reads src once for its MD5 (when md5 is not NULL) and its checksum alg (when not CKSUM_NONE, into cs->cksum_value). */
static int read_digests(store_t *st, const store_object_t *src, uint8_t *md5, cksum_alg_t alg, copy_state_t *cs)
{
    size_t buf_len = STORE_READ_BLOCK;
    uint8_t *buf = malloc(buf_len);
    EVP_MD_CTX *md = md5 != NULL ? EVP_MD_CTX_new() : NULL;
    cksum_ctx_t ck;
    if (buf == NULL || (md5 != NULL && (md == NULL || EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1)))
        abort();
    if (alg != CKSUM_NONE)
        cksum_init(&ck, alg);
    int rc = 0;
    for (uint64_t off = 0, n = 0; off < src->size && rc == 0; off += n) {
        n = store_object_block_end(src, off) - off; /* whole checksum blocks: no copy through scratch */
        if (n > buf_len)
            n = buf_len;
        if ((rc = store_object_read(st, src, off, buf, n)) != 0)
            break;
        if (md != NULL)
            EVP_DigestUpdate(md, buf, n);
        if (alg != CKSUM_NONE)
            cksum_update(&ck, buf, n);
    }
    if (rc == 0 && md != NULL)
        EVP_DigestFinal_ex(md, md5, NULL);
    if (rc == 0 && alg != CKSUM_NONE) {
        uint8_t digest[CKSUM_MAX_DIGEST_LEN];
        cksum_to_base64(digest, cksum_final(&ck, digest), cs->cksum_value);
    }
    if (alg != CKSUM_NONE)
        cksum_cleanup(&ck);
    EVP_MD_CTX_free(md);
    free(buf);
    return rc;
}

/* Looks the source up, checks it, and stores the copy. Returns the storage result (-EAGAIN: try again). */
static int copy_once(s3_job_t *j, store_object_t *src, store_object_t *out, store_kv_t *headers, size_t *num_headers)
{
    s3_req_t *r = j->r;
    copy_state_t *cs = (copy_state_t *)j->extra;
    store_t *st = r->thread->server->store;
    int rc;

    store_object_free(src);
    if ((rc = store_object_get(st, cs->src.bucket, cs->src.key, cs->src.key_len, src)) != 0)
        return rc;
    if ((j->err = authz_source(r, cs->src.bucket, cs->src.key, cs->src.key_len, src)) != S3ERR_NONE)
        return 0;
    if (s3_check_conditions(r, "x-amz-copy-source-", src) != S3_COND_PASS) {
        j->err = S3ERR_PRECONDITION_FAILED;
        return 0;
    }
    if (src->size > COPY_SOURCE_MAX) {
        j->err = S3ERR_INVALID_REQUEST;
        j->err_message = "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120";
        return 0;
    }
    int full_object;
    cksum_alg_t src_alg = source_checksum(src, &full_object);
    cksum_alg_t alg = cs->want_alg != CKSUM_NONE ? cs->want_alg : src_alg;
    int new_checksum = alg != CKSUM_NONE && (alg != src_alg || !full_object);
    uint8_t md5[16];
    if ((src->num_parts > 0 || new_checksum) &&
        (rc = read_digests(st, src, src->num_parts > 0 ? md5 : NULL, new_checksum ? alg : CKSUM_NONE, cs)) != 0)
        return rc;
    size_t n = copy_headers(cs, src, !new_checksum, headers);
    if (new_checksum) {
        const char *name = cksum_header_name(alg);
        headers[n++] = (store_kv_t){name, strlen(name), cs->cksum_value, strlen(cs->cksum_value)};
        headers[n++] = (store_kv_t){H2O_STRLIT("x-amz-checksum-type"), H2O_STRLIT("FULL_OBJECT")};
    }
    *num_headers = n;
    store_copy_t c = {.src = src,
                      .bucket = r->route.bucket,
                      .key = r->route.key,
                      .key_len = r->route.key_len,
                      .headers = headers,
                      .num_headers = n,
                      .cond = cs->has_cond ? &cs->cond : NULL,
                      .md5 = src->num_parts > 0 ? md5 : NULL};
    return store_object_copy(st, &c, out);
}

static void run_copy_object(s3_job_t *j)
{
    store_object_t src = {0}, out;
    store_kv_t headers[S3_STORED_HEADERS_MAX + 8];
    size_t num_headers = 0;
    int rc = -EAGAIN;

    for (int attempt = 0; attempt < S3_COPY_ATTEMPTS && rc == -EAGAIN; attempt++)
        rc = copy_once(j, &src, &out, headers, &num_headers);
    if (j->err == S3ERR_NONE && rc != 0)
        j->err = rc == -EAGAIN ? S3ERR_SERVICE_UNAVAILABLE : s3err_from_store(rc);
    if (j->err == S3ERR_NONE) {
        xmlw_t *w = &j->xml;
        xmlw_init(w);
        xmlw_open(w, "CopyObjectResult " S3_XMLNS);
        xmlw_elem_time(w, "LastModified", out.mtime_ns);
        xmlw_elem_etag_parts(w, "ETag", out.md5, out.num_parts);
        write_checksum(w, headers, num_headers);
        xmlw_close(w, "CopyObjectResult");
        j->has_xml = 1;
    }
    store_object_free(&src);
}

void ops_copy_object(s3_req_t *r)
{
    s3_job_t *j = s3_job_new(r, run_copy_object, sizeof(copy_state_t));
    copy_state_t *cs = (copy_state_t *)j->extra;
    const char *message = NULL;
    s3err_t err = s3_parse_copy_source(r, &cs->src, &message);
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return;
    }
    if (parse_directive(r, "x-amz-metadata-directive", &cs->replace_metadata) != 0) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, "Unknown metadata directive.");
        return;
    }
    if (parse_directive(r, "x-amz-tagging-directive", &cs->replace_tagging) != 0) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, "Unknown tagging directive.");
        return;
    }
    if ((err = s3_parse_write_conditions(r, &cs->cond, &message)) != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return;
    }
    cs->has_cond = cs->cond.if_none_match || cs->cond.if_match;
    size_t alg_len;
    const char *alg = s3_header(r, "x-amz-checksum-algorithm", &alg_len);
    if (alg != NULL && (cs->want_alg = cksum_alg_from_name(alg, alg_len)) == CKSUM_NONE) {
        s3_job_refuse(j, S3ERR_INVALID_REQUEST,
                      "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, "
                      "CRC32C, CRC64NVME, SHA1, SHA256]");
        return;
    }
    if (strcmp(cs->src.bucket, r->route.bucket) == 0 && cs->src.key_len == r->route.key_len &&
        memcmp(cs->src.key, r->route.key, r->route.key_len) == 0 && !cs->replace_metadata &&
        s3_header(r, "x-amz-storage-class", NULL) == NULL) {
        s3_job_refuse(j, S3ERR_INVALID_REQUEST,
                      "This copy request is illegal because it is trying to copy an object to itself without changing the "
                      "object's metadata, storage class, website redirect location or encryption attributes.");
        return;
    }
    if (cs->replace_metadata) {
        err = s3_collect_stored_headers(r, cs->headers, &cs->num_request_headers, &message);
    } else if (cs->replace_tagging) { /* only the tags: the request's metadata headers are ignored */
        int found;
        if ((err = s3_tagging_from_header(r, &cs->headers[0], &found, &message)) == S3ERR_NONE)
            cs->num_request_headers = found ? 1 : 0;
    }
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return;
    }
    s3_job_start(j);
}
