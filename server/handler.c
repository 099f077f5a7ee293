/* server/handler.c -- the request pipeline: route -> authenticate -> authorize -> operation.
 *
 * DESIGN: everything here runs on the event loop and costs microseconds: the
 * router is a pure function, SigV4 needs one SHA-256 of the canonical request
 * and one HMAC under a cached signing key. Verifying x-amz-content-sha256
 * against a large body is left to the operation's worker job (PutObject);
 * small bodies are checked here. Errors leave through s3_send_error only, so
 * every failure is S3 XML carrying the request id. The access-log line is
 * written when h2o disposes the request, when status and bytes are final. */
#include "server/handler.h"
#include "server/admin.h"
#include "server/authz.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "auth/sigv4.h"
#include "auth/text.h"
#include "server/auth_v2.h"
#include "server/log.h"

#define MAX_CLOCK_SKEW_SECS (15 * 60)
#define INLINE_PAYLOAD_CHECK_MAX (64 * 1024)
#define MAX_SIGNED_HEADERS 128
#define PRESIGN_MAX_EXPIRES 604800L /* 7 days */

const char *s3_header(s3_req_t *r, const char *name, size_t *len)
{
    ssize_t i = h2o_find_header_by_str(&r->req->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    if (len != NULL)
        *len = r->req->headers.entries[i].value.len;
    return r->req->headers.entries[i].value.base;
}

void s3_add_header(s3_req_t *r, const char *name, const char *value, size_t value_len)
{
    h2o_iovec_t v = h2o_strdup(&r->req->pool, value, value_len);
    h2o_add_header_by_str(&r->req->pool, &r->req->res.headers, name, strlen(name), 1, NULL, v.base, v.len);
}

int s3_parse_uint(const char *v, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t n = 0;
    if (v == NULL || len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(v[i] - '0');
        if (d > 9 || n > (max - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

int s3_parse_etag(const char *v, size_t len, uint8_t md5[16], uint32_t *num_parts)
{
    if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
        v++, len -= 2;
    uint64_t parts = 0;
    if (len > 33 && len <= 38 && v[32] == '-') { /* "-" and 1..10000 */
        for (size_t i = 33; i < len; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -1;
            parts = parts * 10 + (uint64_t)(v[i] - '0');
        }
        if (parts == 0)
            return -1;
        len = 32;
    }
    if (len != 32 || h2o_hex_decode(md5, v, 32) != 0)
        return -1;
    *num_parts = (uint32_t)parts;
    return 0;
}

void s3_send_error(s3_req_t *r, s3err_t err, const char *message)
{
    xmlw_t w;
    xmlw_init(&w);
    xmlw_open(&w, "Error");
    xmlw_elem_str(&w, "Code", s3err_code(err));
    xmlw_elem_str(&w, "Message", message != NULL ? message : s3err_message(err));
    if (r->route.bucket_len != 0)
        xmlw_elem(&w, "BucketName", r->route.bucket, r->route.bucket_len);
    if (r->route.key_len != 0)
        xmlw_elem(&w, "Key", r->route.key, r->route.key_len);
    xmlw_elem(&w, "Resource", r->req->path.base, r->route.raw_path_len != 0 ? r->route.raw_path_len : r->req->path.len);
    xmlw_elem_str(&w, "RequestId", r->request_id);
    xmlw_elem_str(&w, "HostId", r->request_id);
    xmlw_close(&w, "Error");
    if (err == S3ERR_METHOD_NOT_ALLOWED)
        s3_add_header(r, "allow", H2O_STRLIT("GET, PUT, HEAD, DELETE, POST"));
    if (err == S3ERR_SERVICE_UNAVAILABLE)
        s3_add_header(r, "retry-after", H2O_STRLIT("1"));
    s3_send_xml(r, s3err_status(err), &w);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 416:
        return "Requested Range Not Satisfiable";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return "";
    }
}

void s3_set_status(s3_req_t *r, int status)
{
    r->req->res.status = status;
    r->req->res.reason = reason_phrase(status);
}

void s3_send_body(s3_req_t *r, int status, const char *body, size_t len)
{
    s3_set_status(r, status);
    /* h2o_send_inline leaves Content-Length unset (the body would go out chunked) and copies body into the pool */
    r->req->res.content_length = len;
    h2o_send_inline(r->req, body, len); /* HEAD gets the headers only */
}

void s3_send_xml(s3_req_t *r, int status, xmlw_t *doc)
{
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/xml"));
    s3_send_body(r, status, doc->buf, doc->len);
    xmlw_free(doc);
}

void s3_send_empty(s3_req_t *r, int status)
{
    s3_send_body(r, status, "", 0);
}

static void job_begin(s3_req_t *r, iopool_job_t *job)
{
    job->receiver = &r->thread->io_receiver;
    ++r->thread->jobs_in_flight;
}

void s3_submit(s3_req_t *r, iopool_job_t *job)
{
    job_begin(r, job);
    iopool_submit(r->thread->server->iopool, job);
}

void s3_job_finished(server_thread_t *t)
{
    --t->jobs_in_flight;
}

static void job_work(iopool_job_t *job)
{
    s3_job_t *j = (s3_job_t *)job;
    j->run(j);
}

static void job_done(iopool_job_t *job)
{
    s3_job_t *j = (s3_job_t *)job;
    s3_req_t *r = j->r;
    s3_job_finished(r->thread);
    if (j->err != S3ERR_NONE) {
        xmlw_free(&j->xml);
        s3_send_error(r, j->err, j->err_message);
    } else {
        if (j->etag[0] != '\0')
            h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_ETAG, NULL, j->etag, strlen(j->etag));
        if (j->header_name != NULL)
            s3_add_header(r, j->header_name, j->header_value, strlen(j->header_value));
        if (j->cksum_alg != CKSUM_NONE)
            s3_add_header(r, cksum_header_name(j->cksum_alg), j->cksum_value, strlen(j->cksum_value));
        if (j->cksum_type != NULL)
            s3_add_header(r, "x-amz-checksum-type", j->cksum_type, strlen(j->cksum_type));
        if (j->has_xml)
            s3_send_xml(r, j->status, &j->xml);
        else
            s3_send_empty(r, j->status);
    }
    free(j);
}

s3_job_t *s3_job_new(s3_req_t *r, void (*run)(s3_job_t *job), size_t extra_len)
{
    s3_job_t *j = calloc(1, sizeof(*j) + extra_len);
    if (j == NULL)
        abort();
    j->r = r;
    j->run = run;
    j->status = 200;
    j->super.work = job_work;
    j->super.done = job_done;
    return j;
}

void s3_job_refuse(s3_job_t *job, s3err_t err, const char *message)
{
    s3_send_error(job->r, err, message); /* first: message may point into the job */
    free(job);
}

void s3_job_start(s3_job_t *job)
{
    s3_submit(job->r, &job->super);
}

void s3_job_begin_elsewhere(s3_job_t *job)
{
    job_begin(job->r, &job->super);
    job->super.msg.link = (h2o_linklist_t){NULL, NULL};
}

void s3_job_complete(s3_job_t *job)
{
    h2o_multithread_send_message(job->super.receiver, &job->super.msg);
}

/* ------------------------------------------------------------------ access log */

static void on_req_dispose(void *p)
{
    s3_req_t *r = p;
    h2o_req_t *req = r->req;
    --r->thread->active_requests;
    if (r->streaming != NULL)
        explicit_bzero(r->streaming->signing_key, sizeof(r->streaming->signing_key));
    if (!log_access_enabled)
        return;
    struct timeval now;
    gettimeofday(&now, NULL);
    /* The raw path only: a query string may carry presigned credentials and signatures. */
    size_t path_len = r->route.raw_path_len != 0 ? r->route.raw_path_len : strcspn(req->path.base, "?");
    if (path_len > req->path.len)
        path_len = req->path.len;
    if (path_len > 1024)
        path_len = 1024;
    log_access_entry_t e = {
        .request_id = r->request_id,
        .user = r->authenticated ? r->user.name : "-",
        .method = req->method.base,
        .method_len = req->method.len,
        .path = req->path.base,
        .path_len = path_len,
        .op = router_op_name(r->route.op),
        .status = req->res.status,
        .bytes_in = req->entity.len,
        .bytes_out = req->bytes_sent,
        .usec = h2o_timeval_is_null(&req->timestamps.request_begin_at)
                    ? 0
                    : h2o_timeval_subtract(&req->timestamps.request_begin_at, &now),
        .end = now.tv_sec,
    };
    log_access(&e);
}

/* ------------------------------------------------------------------ authentication */

/*
 * The part of SigV4 the header and the presigned forms share: the payload hash, the key,
 * the signature over the request, then the body against a hex payload hash.
 * Returns S3ERR_NONE and fills r->user, or the error to answer.
 */
static s3err_t verify_sigv4(s3_req_t *r, const sigv4_auth_t *auth, const char *amz_date, size_t date_len, const char *payload_hash,
                            size_t hash_len, int presigned, const char **message)
{
    h2o_req_t *req = r->req;
    int hex_hash = text_is_hex(payload_hash, hash_len, 64);
    chunked_mode_t mode = 0;
    if (!hex_hash && !h2o_memis(payload_hash, hash_len, H2O_STRLIT("UNSIGNED-PAYLOAD"))) {
        if (chunked_mode_from_content_sha256(payload_hash, hash_len, &mode) == 0) {
            if (r->route.op != S3OP_PUT_OBJECT && r->route.op != S3OP_UPLOAD_PART) {
                *message = "aws-chunked bodies are accepted by PutObject and UploadPart only.";
                return S3ERR_INVALID_REQUEST;
            }
        } else if (hash_len > 10 && memcmp(payload_hash, "STREAMING-", 10) == 0) {
            *message = "This streaming payload signing method (SigV4a?) is not supported.";
            return S3ERR_NOT_IMPLEMENTED;
        } else {
            *message = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-..., or a valid sha256 value.";
            return S3ERR_INVALID_ARGUMENT;
        }
    }

    uint8_t key[SIGV4_KEY_LEN];
    if (sigkey_cache_get(&r->thread->sigkeys, r->thread->server->keys, auth, key, &r->user) != 0)
        return S3ERR_INVALID_ACCESS_KEY_ID;

    /* h2o keeps Host and Content-Length out of req->headers; clients may sign both. */
    sigv4_header_t headers[MAX_SIGNED_HEADERS + 2];
    size_t n = 0;
    headers[n++] = (sigv4_header_t){"host", 4, req->authority.base, req->authority.len};
    char clen[24];
    if (req->entity.base != NULL) {
        int l = snprintf(clen, sizeof(clen), "%zu", req->entity.len);
        headers[n++] = (sigv4_header_t){"content-length", 14, clen, (size_t)l};
    }
    for (size_t i = 0; i < req->headers.size && n < MAX_SIGNED_HEADERS + 2; ++i) {
        const h2o_header_t *h = &req->headers.entries[i];
        headers[n++] = (sigv4_header_t){h->name->base, h->name->len, h->value.base, h->value.len};
    }
    sigv4_request_t sreq = {
        .method = req->method.base,
        .method_len = req->method.len,
        .path = r->route.raw_path,
        .path_len = r->route.raw_path_len,
        .query = r->route.raw_query,
        .query_len = r->route.raw_query_len,
        .headers = headers,
        .num_headers = n,
        .payload_hash = payload_hash,
        .payload_hash_len = hash_len,
        .amz_date = amz_date,
        .amz_date_len = date_len,
        .presigned = presigned,
    };
    sigv4_status_t st = sigv4_verify(&sreq, auth, key);
    if (st == SIGV4_OK && mode != 0) { /* the chunk signatures chain from this request's signature, under its key */
        s3_streaming_t *sm = h2o_mem_alloc_pool(&req->pool, sizeof(*sm));
        sm->mode = mode;
        memcpy(sm->signing_key, key, sizeof(key));
        memcpy(sm->amz_date, amz_date, 16);
        sm->amz_date[16] = '\0';
        snprintf(sm->scope, sizeof(sm->scope), "%s/%s/%s/aws4_request", auth->date, auth->region, auth->service);
        memcpy(sm->seed_signature, auth->signature, sizeof(sm->seed_signature));
        r->streaming = sm;
    }
    explicit_bzero(key, sizeof(key));
    if (st != SIGV4_OK)
        return S3ERR_SIGNATURE_DOES_NOT_MATCH;

    if (hex_hash) {
        size_t body_len = req->entity.base != NULL ? req->entity.len : 0;
        for (size_t i = 0; i < 64; ++i)
            r->payload_sha256[i] = (char)tolower((unsigned char)payload_hash[i]);
        r->payload_sha256[64] = '\0';
        if (body_len > INLINE_PAYLOAD_CHECK_MAX && (r->route.op == S3OP_PUT_OBJECT || r->route.op == S3OP_UPLOAD_PART)) {
            r->verify_payload_in_job = 1;
        } else {
            char actual[65];
            sigv4_sha256_hex(body_len != 0 ? req->entity.base : "", body_len, actual);
            if (memcmp(actual, r->payload_sha256, 64) != 0)
                return S3ERR_CONTENT_SHA256_MISMATCH;
        }
    }
    r->authenticated = 1;
    return S3ERR_NONE;
}

/* Verifies a SigV4 Authorization header. Returns S3ERR_NONE and fills r->user, or the error to answer. */
static s3err_t authenticate_sigv4(s3_req_t *r, const char *authz, size_t authz_len, const char **message)
{
    sigv4_auth_t auth;
    if (sigv4_parse_authorization(authz, authz_len, &auth) != SIGV4_OK)
        return S3ERR_AUTH_HEADER_MALFORMED;
    if (strcmp(auth.service, "s3") != 0) {
        *message = "The authorization header is malformed; the credential scope must name service 's3'.";
        return S3ERR_AUTH_HEADER_MALFORMED;
    }

    size_t date_len;
    const char *amz_date = s3_header(r, "x-amz-date", &date_len);
    time_t when;
    if (amz_date == NULL || sigv4_parse_amz_date(amz_date, date_len, &when) != 0) {
        *message = "AWS authentication requires a valid Date or x-amz-date header";
        return S3ERR_ACCESS_DENIED;
    }
    time_t now = time(NULL);
    if (when > now + MAX_CLOCK_SKEW_SECS || when < now - MAX_CLOCK_SKEW_SECS)
        return S3ERR_REQUEST_TIME_TOO_SKEWED;
    if (memcmp(auth.date, amz_date, 8) != 0) {
        *message = "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.";
        return S3ERR_AUTH_HEADER_MALFORMED;
    }

    size_t hash_len;
    const char *payload_hash = s3_header(r, "x-amz-content-sha256", &hash_len);
    if (payload_hash == NULL) {
        *message = "Missing required header for this request: x-amz-content-sha256";
        return S3ERR_MISSING_SECURITY_HEADER;
    }
    return verify_sigv4(r, &auth, amz_date, date_len, payload_hash, hash_len, 0, message);
}

/*
 * Verifies a presigned URL (SigV4 in the query string). The URL is valid from
 * X-Amz-Date for X-Amz-Expires seconds (at most 7 days); the payload is
 * UNSIGNED-PAYLOAD unless the request sends x-amz-content-sha256.
 */
static s3err_t authenticate_presigned(s3_req_t *r, const char **message)
{
    static const char missing[] = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                                  "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
    const route_t *rt = &r->route;
    size_t alg_len, cred_len, sh_len, sig_len, date_len, exp_len;
    const char *alg = route_param(rt, "X-Amz-Algorithm", &alg_len);
    const char *cred = route_param(rt, "X-Amz-Credential", &cred_len);
    const char *sh = route_param(rt, "X-Amz-SignedHeaders", &sh_len);
    const char *sig = route_param(rt, SIGV4_QUERY_SIGNATURE, &sig_len);
    const char *amz_date = route_param(rt, "X-Amz-Date", &date_len);
    const char *expires = route_param(rt, "X-Amz-Expires", &exp_len);
    sigv4_auth_t auth;
    time_t when;

    if (alg == NULL || cred == NULL || sh == NULL || sig == NULL || amz_date == NULL || expires == NULL) {
        *message = missing;
        return S3ERR_AUTH_QUERY_MALFORMED;
    }
    if (strcmp(alg, "AWS4-HMAC-SHA256") != 0) {
        *message = "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"";
        return S3ERR_AUTH_QUERY_MALFORMED;
    }
    if (sigv4_parse_presigned(cred, cred_len, sh, sh_len, sig, sig_len, &auth) != SIGV4_OK ||
        sigv4_parse_amz_date(amz_date, date_len, &when) != 0) {
        *message = "Error parsing the X-Amz-Credential parameter, X-Amz-Date or X-Amz-SignedHeaders.";
        return S3ERR_AUTH_QUERY_MALFORMED;
    }
    if (memcmp(auth.date, amz_date, 8) != 0) {
        *message = "Invalid credential date. Date is not the same as X-Amz-Date.";
        return S3ERR_AUTH_QUERY_MALFORMED;
    }
    long secs = 0;
    for (size_t i = 0; i < exp_len && secs <= PRESIGN_MAX_EXPIRES; i++)
        secs = isdigit((unsigned char)expires[i]) ? secs * 10 + (expires[i] - '0') : -1L - PRESIGN_MAX_EXPIRES;
    if (exp_len == 0 || secs < 0) {
        *message = "X-Amz-Expires should be a number";
        return S3ERR_AUTH_QUERY_MALFORMED;
    }
    if (secs > PRESIGN_MAX_EXPIRES) {
        *message = "X-Amz-Expires must be less than a week (in seconds) that is 604800";
        return S3ERR_AUTH_QUERY_MALFORMED;
    }
    time_t now = time(NULL);
    if (now > when + secs) {
        *message = "Request has expired";
        return S3ERR_ACCESS_DENIED;
    }
    if (when > now + MAX_CLOCK_SKEW_SECS) {
        *message = "Request is not valid yet";
        return S3ERR_ACCESS_DENIED;
    }
    size_t hash_len;
    const char *payload_hash = s3_header(r, "x-amz-content-sha256", &hash_len);
    if (payload_hash == NULL) {
        payload_hash = "UNSIGNED-PAYLOAD";
        hash_len = sizeof("UNSIGNED-PAYLOAD") - 1;
    }
    return verify_sigv4(r, &auth, amz_date, date_len, payload_hash, hash_len, 1, message);
}

static s3err_t authenticate(s3_req_t *r, const char **message)
{
    size_t len;
    const char *authz = s3_header(r, "authorization", &len);
    if (authz != NULL) {
        if (len > 17 && memcmp(authz, "AWS4-HMAC-SHA256 ", 17) == 0)
            return authenticate_sigv4(r, authz, len, message);
        if (len > 4 && memcmp(authz, "AWS ", 4) == 0)
            return s3_authenticate_sigv2(r, authz, len, message);
        return S3ERR_AUTH_HEADER_MALFORMED;
    }
    if (route_param(&r->route, "X-Amz-Credential", NULL) != NULL || route_param(&r->route, SIGV4_QUERY_SIGNATURE, NULL) != NULL)
        return authenticate_presigned(r, message);
    if (route_param(&r->route, "Signature", NULL) != NULL || route_param(&r->route, "AWSAccessKeyId", NULL) != NULL)
        return s3_authenticate_sigv2_query(r, message);
    return S3ERR_NONE; /* anonymous: s3_authorize() decides */
}

/* Decides whether the (possibly anonymous) requester may run the operation (server/authz.h). */
s3err_t s3_authorize(s3_req_t *r)
{
    return authz_request(r);
}

/* ------------------------------------------------------------------ dispatch */

static void dispatch(s3_req_t *r)
{
    /* No bucket can have a longer name; CreateBucket answers InvalidBucketName itself. */
    if (r->route.bucket_len > STORE_BUCKET_NAME_MAX && r->route.op != S3OP_CREATE_BUCKET) {
        s3_send_error(r, S3ERR_NO_SUCH_BUCKET, NULL);
        return;
    }
    switch (r->route.op) {
    case S3OP_LIST_BUCKETS:
        ops_list_buckets(r);
        break;
    case S3OP_CREATE_BUCKET:
        ops_create_bucket(r);
        break;
    case S3OP_HEAD_BUCKET:
        ops_head_bucket(r);
        break;
    case S3OP_DELETE_BUCKET:
        ops_delete_bucket(r);
        break;
    case S3OP_GET_BUCKET_LOCATION:
        ops_get_bucket_location(r);
        break;
    case S3OP_GET_BUCKET_VERSIONING:
        ops_get_bucket_versioning(r);
        break;
    case S3OP_GET_BUCKET_ACL:
    case S3OP_GET_OBJECT_ACL:
    case S3OP_PUT_BUCKET_ACL:
    case S3OP_PUT_OBJECT_ACL:
        ops_acl(r);
        break;
    case S3OP_GET_BUCKET_POLICY:
    case S3OP_PUT_BUCKET_POLICY:
    case S3OP_DELETE_BUCKET_POLICY:
    case S3OP_GET_BUCKET_POLICY_STATUS:
        ops_bucket_policy(r);
        break;
    case S3OP_LIST_OBJECTS:
        ops_list_objects(r, 0);
        break;
    case S3OP_LIST_OBJECTS_V2:
        ops_list_objects(r, 1);
        break;
    case S3OP_PUT_OBJECT:
        ops_put_object(r);
        break;
    case S3OP_COPY_OBJECT:
        ops_copy_object(r);
        break;
    case S3OP_GET_OBJECT:
        ops_get_object(r, 0);
        break;
    case S3OP_HEAD_OBJECT:
        ops_get_object(r, 1);
        break;
    case S3OP_DELETE_OBJECT:
        ops_delete_object(r);
        break;
    case S3OP_CREATE_MULTIPART_UPLOAD:
        ops_create_multipart_upload(r);
        break;
    case S3OP_UPLOAD_PART:
    case S3OP_UPLOAD_PART_COPY:
        ops_upload_part(r);
        break;
    case S3OP_COMPLETE_MULTIPART_UPLOAD:
        ops_complete_multipart_upload(r);
        break;
    case S3OP_ABORT_MULTIPART_UPLOAD:
        ops_abort_multipart_upload(r);
        break;
    case S3OP_LIST_PARTS:
        ops_list_parts(r);
        break;
    case S3OP_LIST_MULTIPART_UPLOADS:
        ops_list_multipart_uploads(r);
        break;
    case S3OP_POST_OBJECT:
        ops_post_object(r);
        break;
    case S3OP_DELETE_OBJECTS:
        ops_delete_objects(r);
        break;
    case S3OP_GET_OBJECT_TAGGING:
    case S3OP_PUT_OBJECT_TAGGING:
    case S3OP_DELETE_OBJECT_TAGGING:
        ops_object_tagging(r);
        break;
    case S3OP_GET_BUCKET_TAGGING:
    case S3OP_PUT_BUCKET_TAGGING:
    case S3OP_DELETE_BUCKET_TAGGING:
        ops_bucket_tagging(r);
        break;
    case S3OP_GET_BUCKET_OWNERSHIP_CONTROLS:
    case S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS:
    case S3OP_DELETE_BUCKET_OWNERSHIP_CONTROLS:
    case S3OP_GET_PUBLIC_ACCESS_BLOCK:
    case S3OP_PUT_PUBLIC_ACCESS_BLOCK:
    case S3OP_DELETE_PUBLIC_ACCESS_BLOCK:
        ops_bucket_config(r);
        break;
    case S3OP_LIST_OBJECT_VERSIONS:
        ops_list_object_versions(r);
        break;
    case S3OP_GET_OBJECT_ATTRIBUTES:
        ops_get_object_attributes(r);
        break;
    case S3OP_ADMIN_SCRUB_START:
        admin_scrub_start(r);
        break;
    case S3OP_ADMIN_SCRUB_STATUS:
        admin_scrub_status(r);
        break;
    case S3OP_ADMIN_USERS_LIST:
    case S3OP_ADMIN_USER_ADD:
    case S3OP_ADMIN_USER_REMOVE:
    case S3OP_ADMIN_KEY_ADD:
    case S3OP_ADMIN_KEY_REMOVE:
        admin_users(r);
        break;
    case S3OP_METHOD_NOT_ALLOWED:
        s3_send_error(r, S3ERR_METHOD_NOT_ALLOWED, NULL);
        break;
    case S3OP_NOT_IMPLEMENTED:
    default:
        s3_send_error(r, S3ERR_NOT_IMPLEMENTED, NULL);
        break;
    }
}

int handler_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    server_thread_t *t = serve_thread_of(req->conn->ctx);
    s3_req_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_req_dispose);
    memset(r, 0, offsetof(s3_req_t, route));
    r->route.op = S3OP_INVALID;
    r->route.bucket = r->route.key = "";
    r->route.bucket_len = r->route.key_len = r->route.raw_path_len = 0;
    r->req = req;
    r->thread = t;
    ++t->active_requests;
    r->authenticated = 0;
    r->verify_payload_in_job = 0;
    r->streaming = NULL;
    /* %08X%02X%06X: the server's salt, the thread, the thread's request counter */
    uint64_t id = (uint64_t)t->server->request_id_salt << 32 | (uint64_t)(t->index & 0xff) << 24 | (++t->req_counter & 0xffffff);
    for (int i = 16; i-- > 0; id >>= 4)
        r->request_id[i] = "0123456789ABCDEF"[id & 15];
    r->request_id[16] = '\0';
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-amz-request-id"), 0, NULL, r->request_id, 16);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-amz-id-2"), 0, NULL, r->request_id, 16);

    router_input_t in = {
        .method = req->method.base,
        .method_len = req->method.len,
        .path = req->path.base,
        .path_len = req->path.len,
        .host = req->authority.base,
        .host_len = req->authority.len,
        .domain = t->server->cfg.domain,
        .domain_len = t->server->cfg.domain != NULL ? strlen(t->server->cfg.domain) : 0,
        .has_copy_source = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-amz-copy-source"), -1) != -1,
    };
    char *scratch = h2o_mem_alloc_pool(&req->pool, ROUTER_SCRATCH_LEN(req->path.len));
    s3err_t err = router_route(&in, &r->route, scratch, ROUTER_SCRATCH_LEN(req->path.len));
    if (err != S3ERR_NONE) {
        s3_send_error(r, err, NULL);
        return 0;
    }
    const char *message = NULL;
    if (r->route.op == S3OP_POST_OBJECT) { /* the form carries the credentials: ops_post_object authenticates */
        dispatch(r);
        return 0;
    }
    if ((err = authenticate(r, &message)) != S3ERR_NONE || (err = s3_authorize(r)) != S3ERR_NONE) {
        s3_send_error(r, err, message);
        return 0;
    }
    dispatch(r);
    return 0;
}
