/* server/ops_object.c -- PutObject, GetObject, HeadObject, DeleteObject.
 *
 * DESIGN: PutObject hands the body to storage without copying it: h2o has
 * buffered it (spilling large bodies to an mmap'd file on the data volume),
 * and the request cannot go away while the job runs (see handler.h). The
 * worker checks x-amz-content-sha256 for large bodies, then storage hashes,
 * chunks and commits. GetObject reads metadata on the loop (a point lookup),
 * answers small objects from the record, and streams large ones through
 * getstream.c. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "auth/sigv4.h"
#include "server/getstream.h"
#include "server/handler.h"
#include "server/ingest.h"
#include "server/authz.h"
#include "server/log.h"
#include "server/payload.h"
#include "server/range.h"
#include "server/tagging.h"

#define USER_METADATA_MAX 2048

/* The request headers kept with an object and returned by GET/HEAD. */
static const char *const stored_headers[] = {"content-type",  "content-encoding", "content-disposition",
                                             "cache-control", "content-language", "expires"};

static int is_stored_header(const h2o_iovec_t *name)
{
    if (name->len > 11 && memcmp(name->base, "x-amz-meta-", 11) == 0)
        return 2;
    for (size_t i = 0; i < sizeof(stored_headers) / sizeof(stored_headers[0]); ++i) {
        if (h2o_memis(name->base, name->len, stored_headers[i], strlen(stored_headers[i])))
            return 1;
    }
    return 0;
}

typedef struct put_state {
    store_put_t put;
    store_precondition_t cond;
    s3_payload_t payload;
    uint8_t expected_md5[16];
    store_kv_t headers[S3_STORED_HEADERS_MAX + 2]; /* + the checksum and its type */
    ingest_t *ingest;                              /* the body, already being staged as it arrived (or NULL) */
    uint8_t ingest_md5[16];
    s3_job_t *job;
    store_put_async_t async; /* a small body's commit (put_small) */
} put_state_t;

/*
 * Content-Encoding without the aws-chunked token: the transfer framing is not the
 * object's encoding. Returns 0 and *out (pool memory when changed), or -1 when
 * nothing is left to store.
 */
static int strip_aws_chunked(s3_req_t *r, const h2o_iovec_t *value, h2o_iovec_t *out)
{
    char *buf = h2o_mem_alloc_pool(&r->req->pool, value->len + 1);
    size_t n = 0;
    for (size_t i = 0; i < value->len;) {
        size_t j = i;
        while (j < value->len && value->base[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && (value->base[a] == ' ' || value->base[a] == '\t'))
            a++;
        while (b > a && (value->base[b - 1] == ' ' || value->base[b - 1] == '\t'))
            b--;
        if (b > a && !h2o_lcstris(value->base + a, b - a, H2O_STRLIT("aws-chunked"))) {
            if (n != 0)
                buf[n++] = ',';
            memcpy(buf + n, value->base + a, b - a);
            n += b - a;
        }
        i = j + 1;
    }
    *out = h2o_iovec_init(buf, n);
    return n != 0 ? 0 : -1;
}

s3err_t s3_collect_stored_headers(s3_req_t *r, store_kv_t *out, size_t *num, const char **message)
{
    h2o_req_t *req = r->req;
    *message = NULL;
    size_t n = 0, meta_bytes = 0;
    int has_type = 0;
    for (size_t i = 0; i < req->headers.size; ++i) {
        const h2o_header_t *h = &req->headers.entries[i];
        int kind = is_stored_header(h->name);
        if (kind == 0)
            continue;
        if (kind == 2)
            meta_bytes += h->name->len - 11 + h->value.len;
        if (n == S3_STORED_HEADERS_MAX - 2 || meta_bytes > USER_METADATA_MAX) /* room for the type and the ACL */
            return S3ERR_METADATA_TOO_LARGE;
        if (h2o_memis(h->name->base, h->name->len, H2O_STRLIT("content-type")))
            has_type = 1;
        h2o_iovec_t value = h->value;
        if (r->streaming != NULL && h2o_memis(h->name->base, h->name->len, H2O_STRLIT("content-encoding")) &&
            strip_aws_chunked(r, &h->value, &value) != 0)
            continue;
        out[n++] = (store_kv_t){h->name->base, h->name->len, value.base, value.len};
    }
    int has_tags; /* x-amz-tagging, stored in canonical form (GET/HEAD answer x-amz-tagging-count) */
    s3err_t err = s3_tagging_from_header(r, &out[n], &has_tags, message);
    if (err != S3ERR_NONE)
        return err;
    if (has_tags && ++n + !has_type > S3_STORED_HEADERS_MAX - 1)
        return S3ERR_METADATA_TOO_LARGE;
    if (!has_type) /* what AWS reports for an object stored without a Content-Type */
        out[n++] = (store_kv_t){H2O_STRLIT("content-type"), H2O_STRLIT("binary/octet-stream")};
    int has_acl;
    if ((err = authz_new_object_acl(r, &out[n], &has_acl, message)) != S3ERR_NONE) /* its owner and grants */
        return err;
    *num = n + has_acl;
    return S3ERR_NONE;
}

/* The verified payload's checksum, stored with the object and answered. */
static void put_add_checksum(s3_job_t *j, put_state_t *st)
{
    s3_payload_t *p = &st->payload;
    if (s3_payload_checksum_header(p, &st->headers[st->put.num_headers]) != 0) {
        st->headers[++st->put.num_headers] = (store_kv_t){H2O_STRLIT("x-amz-checksum-type"), H2O_STRLIT("FULL_OBJECT")};
        st->put.num_headers++;
        s3_job_set_checksum(j, p->alg, p->value, "FULL_OBJECT");
    }
}

static void put_result(s3_job_t *j, int rc, const store_object_t *obj)
{
    if (rc != 0)
        j->err = s3err_from_store(rc);
    else
        s3_format_etag(obj->md5, 0, j->etag);
}

static void run_put_object(s3_job_t *j)
{
    s3_req_t *r = j->r;
    put_state_t *st = (put_state_t *)j->extra;
    s3_payload_t *p = &st->payload;
    if (st->ingest != NULL) { /* req->entity is not the body: only the ingest has it */
        j->err = ingest_finish(st->ingest, r->verify_payload_in_job ? r->payload_sha256 : NULL, &st->put, st->ingest_md5);
        st->ingest = NULL;
        if (j->err != S3ERR_NONE)
            return;
    } else if ((j->err = s3_payload_verify(r, p, CKSUM_NONE, &j->err_message)) != S3ERR_NONE) {
        s3_payload_free(p);
        return;
    } else {
        st->put.body = p->iov;
        st->put.body_iovcnt = p->iovcnt;
    }
    put_add_checksum(j, st);
    store_object_t obj;
    struct timespec t0, t1;
    int timed = log_threshold <= LOG_DEBUG;
    if (timed)
        clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = store_object_put(r->thread->server->store, &st->put, &obj);
    if (timed) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        log_debug("%s: stored %llu bytes in %.1f ms (rc %d)", r->request_id, (unsigned long long)p->size,
                  (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, rc);
    }
    s3_payload_free(p);
    put_result(j, rc, &obj);
}

/* On the store's commit thread. */
static void put_committed(store_put_async_t *a)
{
    put_state_t *st = H2O_STRUCT_FROM_MEMBER(put_state_t, async, a);
    put_result(st->job, a->ret, &a->obj);
    s3_job_complete(st->job);
}

/*
 * A body small enough to live in the object's record is checked here on the loop (no more
 * than a few KiB to hash) and committed by the store's commit thread, which batches the
 * synced writes of concurrent small PUTs: no worker, no wait on the loop. Returns 0 when
 * it has taken the job (answered or to be answered), or -1 for the worker's path.
 */
static int put_small(s3_job_t *j, put_state_t *st)
{
    s3_req_t *r = j->r;
    s3_payload_t *p = &st->payload;
    store_t *store = r->thread->server->store;
    const char *message = NULL;
    if (st->ingest != NULL || r->verify_payload_in_job)
        return -1;
    if (r->streaming != NULL ? !store_put_is_inline(store, p->decoded_length) || r->req->entity.len > p->decoded_length + 4096
                             : !store_put_is_inline(store, r->req->entity.len))
        return -1;
    s3err_t err = s3_payload_verify(r, p, CKSUM_NONE, &message);
    if (err != S3ERR_NONE) {
        s3_payload_free(p);
        s3_job_refuse(j, err, message);
        return 0;
    }
    st->put.body = p->iov;
    st->put.body_iovcnt = p->iovcnt;
    put_add_checksum(j, st);
    st->job = j;
    st->async.done = put_committed;
    s3_job_begin_elsewhere(j);
    int rc = store_object_put_async(store, &st->put, &st->async);
    s3_payload_free(p); /* the record holds a copy of the body */
    if (rc != 0) {
        s3_job_finished(r->thread);
        s3_job_refuse(j, s3err_from_store(rc), NULL);
    }
    return 0;
}

int s3_decode_content_md5(const char *v, size_t len, uint8_t out[16])
{
    return base64_decode_exact(v, len, out, 16);
}

s3err_t s3_parse_write_conditions(s3_req_t *r, store_precondition_t *cond, const char **message)
{
    size_t len;
    const char *v = s3_header(r, "if-none-match", &len);
    if (v != NULL) {
        if (!h2o_memis(v, len, H2O_STRLIT("*"))) {
            *message = "If-None-Match on a write accepts only *.";
            return S3ERR_NOT_IMPLEMENTED;
        }
        cond->if_none_match = 1;
    }
    if ((v = s3_header(r, "if-match", &len)) != NULL) {
        cond->if_match = 1;
        if (h2o_memis(v, len, H2O_STRLIT("*"))) {
            cond->if_match_any = 1;
            return S3ERR_NONE;
        }
        if (s3_parse_etag(v, len, cond->md5, &cond->num_parts) != 0)
            memset(cond->md5, 0xFF, sizeof(cond->md5)); /* no object has this ETag */
    }
    return S3ERR_NONE;
}

void ops_put_object(s3_req_t *r)
{
    h2o_req_t *req = r->req;
    if (req->entity.base == NULL) {
        s3_send_error(r, S3ERR_MISSING_CONTENT_LENGTH, NULL);
        return;
    }
    s3_job_t *j = s3_job_new(r, run_put_object, sizeof(put_state_t));
    put_state_t *st = (put_state_t *)j->extra;
    size_t num;
    const char *collect_message = NULL;
    s3err_t err = s3_collect_stored_headers(r, st->headers, &num, &collect_message);
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, collect_message);
        return;
    }
    size_t md5_len;
    const char *md5 = s3_header(r, "content-md5", &md5_len);
    if (md5 != NULL) {
        if (s3_decode_content_md5(md5, md5_len, st->expected_md5) != 0) {
            s3_job_refuse(j, S3ERR_INVALID_DIGEST, NULL);
            return;
        }
        st->put.expected_md5 = st->expected_md5;
    }
    if (log_threshold <= LOG_DEBUG && !h2o_timeval_is_null(&req->timestamps.request_begin_at)) {
        struct timeval now;
        gettimeofday(&now, NULL);
        log_debug("%s: body of %zu bytes received in %.1f ms", r->request_id, req->entity.len,
                  h2o_timeval_subtract(&req->timestamps.request_begin_at, &now) / 1e3);
    }
    const char *message = NULL;
    if ((err = s3_parse_write_conditions(r, &st->cond, &message)) != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return;
    }
    if (st->cond.if_none_match || st->cond.if_match)
        st->put.cond = &st->cond;
    if ((err = s3_payload_prepare(r, &st->payload, &message)) != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return;
    }
    st->put.bucket = r->route.bucket;
    st->put.key = r->route.key;
    st->put.key_len = r->route.key_len;
    st->put.headers = st->headers;
    st->put.num_headers = num;
    /* an ingest (server/ingest.c) is started only for a body with neither aws-chunked framing nor a checksum */
    if ((st->ingest = ingest_take(&r->thread->ingests, req)) != NULL && (r->streaming != NULL || st->payload.alg != CKSUM_NONE)) {
        ingest_cancel(st->ingest);
        st->ingest = NULL;
        s3_job_refuse(j, S3ERR_INTERNAL_ERROR, NULL); /* req->entity is not its body */
        return;
    }
    if (put_small(j, st) != 0)
        s3_job_start(j);
}

/* ------------------------------------------------------------------ GET / HEAD */

static h2o_generator_t empty_generator = {NULL, NULL};

/* The response-* query parameters of GET and HEAD, and the headers they override. */
static const struct {
    const char *param, *header;
} response_overrides[] = {
    {"response-content-type", "content-type"},
    {"response-content-language", "content-language"},
    {"response-expires", "expires"},
    {"response-cache-control", "cache-control"},
    {"response-content-disposition", "content-disposition"},
    {"response-content-encoding", "content-encoding"},
};
#define NUM_RESPONSE_OVERRIDES (sizeof(response_overrides) / sizeof(response_overrides[0]))

/* Which stored headers the request's response-* parameters replace (bit i: response_overrides[i]); adds those headers. */
static unsigned add_response_overrides(s3_req_t *r)
{
    unsigned mask = 0;
    for (size_t i = 0; i < NUM_RESPONSE_OVERRIDES; i++) {
        size_t len;
        const char *v = route_param(&r->route, response_overrides[i].param, &len);
        if (v != NULL) {
            s3_add_header(r, response_overrides[i].header, v, len);
            mask |= 1u << i;
        }
    }
    return mask;
}

static int overridden(unsigned mask, const store_kv_t *h)
{
    for (size_t i = 0; mask != 0 && i < NUM_RESPONSE_OVERRIDES; i++) {
        if ((mask & (1u << i)) &&
            h2o_memis(h->name, h->name_len, response_overrides[i].header, strlen(response_overrides[i].header)))
            return 1;
    }
    return 0;
}

/* The object's ETag and Last-Modified. */
static void add_validators(s3_req_t *r, const store_object_t *obj)
{
    char etag[S3_ETAG_MAX];
    s3_add_header(r, "etag", etag, s3_format_etag(obj->md5, obj->num_parts, etag));
    s3_add_last_modified(r, obj->mtime_ns);
}

void s3_add_last_modified(s3_req_t *r, int64_t mtime_ns)
{
    char lm[H2O_TIMESTR_RFC1123_LEN + 1];
    time_t secs = (time_t)(mtime_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    h2o_time2str_rfc1123(lm, &tm);
    s3_add_header(r, "last-modified", lm, H2O_TIMESTR_RFC1123_LEN);
}

/* The object's stored headers (less those response-* replaces); its checksum (x-amz-checksum-*) only when with_checksum. */
static void add_object_headers(s3_req_t *r, const store_object_t *obj, int with_checksum)
{
    h2o_req_t *req = r->req;
    unsigned overrides = add_response_overrides(r);
    for (size_t i = 0; i < obj->num_headers; ++i) {
        const store_kv_t *h = &obj->headers[i];
        if (!with_checksum && h->name_len > 15 && memcmp(h->name, "x-amz-checksum-", 15) == 0)
            continue;
        if (overridden(overrides, h))
            continue;
        if (h2o_memis(h->name, h->name_len, H2O_STRLIT(AUTHZ_ACL_HEADER))) /* GetObjectAcl's */
            continue;
        if (h2o_memis(h->name, h->name_len, H2O_STRLIT(TAGGING_HEADER))) { /* the tags themselves: GetObjectTagging */
            char count[24];
            s3_add_header(r, TAGGING_COUNT_HEADER, count,
                          (size_t)snprintf(count, sizeof(count), "%zu", tagging_count(h->value, h->value_len)));
            continue;
        }
        h2o_iovec_t v = h2o_strdup(&req->pool, h->value, h->value_len);
        h2o_iovec_t n = h2o_strdup(&req->pool, h->name, h->name_len);
        h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 1, NULL, v.base, v.len);
    }
    add_validators(r, obj);
    s3_add_header(r, "accept-ranges", H2O_STRLIT("bytes"));
}

void ops_get_object(s3_req_t *r, int head)
{
    h2o_req_t *req = r->req;
    store_object_t obj;
    if (authz_get_object(r, &obj) != 0)
        return;

    switch (s3_check_conditions(r, "", &obj)) {
    case S3_COND_PASS:
        break;
    case S3_COND_PRECONDITION_FAILED:
        store_object_free(&obj);
        s3_send_error(r, S3ERR_PRECONDITION_FAILED, NULL);
        return;
    case S3_COND_NOT_MODIFIED: /* the validators, no body */
        add_validators(r, &obj);
        store_object_free(&obj);
        s3_set_status(r, 304);
        h2o_start_response(req, &empty_generator);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    uint64_t first = 0, last = obj.size != 0 ? obj.size - 1 : 0;
    int status = 200;
    size_t range_len, pn_len;
    const char *range = s3_header(r, "range", &range_len);
    const char *pn = route_param(&r->route, "partNumber", &pn_len);
    if (pn != NULL) { /* one part of a multipart object (a whole object counts as its part 1) */
        s3err_t err = S3ERR_NONE;
        uint32_t part = 0, num_parts = obj.num_parts ? obj.num_parts : 1;
        if (range != NULL)
            err = S3ERR_INVALID_REQUEST;
        else if (s3_parse_part_number(pn, pn_len, &part) != 0)
            err = S3ERR_INVALID_ARGUMENT;
        else if (part > num_parts)
            err = S3ERR_INVALID_PART_NUMBER;
        if (err != S3ERR_NONE) {
            store_object_free(&obj);
            s3_send_error(r, err,
                          err == S3ERR_INVALID_REQUEST    ? "Cannot specify both Range header and partNumber query parameter"
                          : err == S3ERR_INVALID_ARGUMENT ? "Part number must be an integer between 1 and 10000, inclusive"
                                                          : NULL);
            return;
        }
        if (obj.num_parts != 0) {
            char count[12];
            s3_add_header(r, "x-amz-mp-parts-count", count, (size_t)snprintf(count, sizeof(count), "%u", obj.num_parts));
            first = 0;
            for (uint32_t i = 0; i + 1 < part; i++)
                first += obj.part_sizes[i];
            last = first + obj.part_sizes[part - 1] - 1;
        }
        if (obj.size != 0 && obj.part_sizes != NULL && obj.part_sizes[part - 1] != 0)
            status = 206;
    } else if (range != NULL) {
        switch (range_parse(range, range_len, obj.size, &first, &last)) {
        case RANGE_OK:
            status = 206;
            break;
        case RANGE_UNSATISFIABLE: {
            char cr[48];
            int n = snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)obj.size);
            s3_add_header(r, "content-range", cr, (size_t)n);
            store_object_free(&obj);
            s3_send_error(r, S3ERR_INVALID_RANGE, NULL);
            return;
        }
        case RANGE_NONE:
            first = 0;
            last = obj.size != 0 ? obj.size - 1 : 0;
            break;
        }
    }
    uint64_t len = obj.size != 0 && last >= first ? last - first + 1 : 0;
    /* like S3, the whole object's checksum is not sent with a range or a part of it */
    size_t mode_len;
    const char *mode = s3_header(r, "x-amz-checksum-mode", &mode_len);
    int with_checksum = mode != NULL && h2o_lcstris(mode, mode_len, H2O_STRLIT("enabled")) && status == 200;
    add_object_headers(r, &obj, with_checksum);
    if (status == 206) {
        char cr[80];
        int n = snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)first, (unsigned long long)last,
                         (unsigned long long)obj.size);
        s3_add_header(r, "content-range", cr, (size_t)n);
    }
    if (obj.inline_data != NULL && !head) { /* small objects (empty ones included) come from the record */
        s3_send_body(r, status, (const char *)obj.inline_data + first, (size_t)len);
        store_object_free(&obj);
        return;
    }
    s3_set_status(r, status);
    if (head) { /* the object's headers and length, no body */
        req->res.content_length = len;
        store_object_free(&obj);
        h2o_start_response(req, &empty_generator);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    getstream_start(r, &obj, first, len); /* takes obj */
}

/* ------------------------------------------------------------------ DELETE */

static void run_delete_object(s3_job_t *j)
{
    s3_req_t *r = j->r;
    int rc = store_object_delete(r->thread->server->store, r->route.bucket, r->route.key, r->route.key_len);
    if (rc != 0)
        j->err = s3err_from_store(rc);
    j->status = 204;
}

void ops_delete_object(s3_req_t *r)
{
    s3_job_start(s3_job_new(r, run_delete_object, 0));
}
