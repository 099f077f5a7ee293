/* server/ops_post.c -- PostObject: browser-form uploads under a POST policy.
 *
 * DESIGN: the request is a multipart/form-data body that carries its own
 * credentials (SigV4 x-amz-credential/x-amz-date/x-amz-signature or SigV2
 * AWSAccessKeyId/signature), a signed policy and the key, then the file. The
 * work is split so the event loop never scans or hashes the file:
 *
 *  - on the loop: the fields and the file part's headers are parsed from the
 *    first 20 KB of the body at most (AWS's limit for everything but the
 *    file), the signature over the policy is checked (one HMAC under a cached
 *    signing key), the requester authorized, and the policy's expiration and
 *    conditions evaluated against the fields;
 *  - on a worker: the end of the file is found (a scan of the whole body, an
 *    mmap'd file for large uploads), its size checked against the policy's
 *    content-length-range, and the file part handed to storage in place as an
 *    iovec into the request body (the request outlives the job: handler.h).
 *
 * As S3 does, repeated fields are joined with commas, ${filename} in a field
 * becomes the last path segment of the file's name, and fields after the
 * file are ignored. The acl field does what PutObject's x-amz-acl does (the
 * same code: form_header hands it to authz as that header), for the object's
 * ACL and for the bucket policy's s3:x-amz-acl. The answer follows
 * success_action_redirect (303 to the URL with bucket, key and etag appended)
 * or success_action_status (201 with a PostResponse document, 200, or 204 by
 * default, both empty).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/postpolicy.h"
#include "auth/sigv4.h"
#include "auth/text.h"
#include "server/authz.h"
#include "server/formdata.h"
#include "server/handler.h"
#include "server/tagging.h"

#define POST_PRE_DATA_MAX (20 * 1024) /* AWS: the form data and boundaries, excluding the file, cannot exceed 20 KB */
#define POST_USER_METADATA_MAX 2048   /* as PutObject */
#define POST_OBJECT_MAX (5ull * 1024 * 1024 * 1024)
#define POST_MESSAGE_MAX 600

/* The form fields kept with the object (besides x-amz-meta-*), as AWS lists them for POST. */
static const char *const post_stored_fields[] = {"content-type", "cache-control", "content-disposition", "content-encoding",
                                                 "expires"};

typedef struct post_state {
    s3_req_t *r; /* borrowed */
    formdata_t form;
    postpolicy_field_t fields[FORMDATA_MAX_FIELDS]; /* the fields before the file, one per name, ${filename} expanded */
    size_t num_fields;
    postpolicy_result_t policy; /* content-length-range, and the message of a refusal */
    char message[POST_MESSAGE_MAX];
    const char *key; /* request pool */
    size_t key_len;
    int status;           /* 200, 201 or 204 when not redirecting */
    const char *redirect; /* a usable success_action_redirect, or NULL; borrowed from fields */
    size_t redirect_len;
    store_kv_t headers[S3_STORED_HEADERS_MAX];
    struct iovec body;
    store_put_t put;
} post_state_t;

static const postpolicy_field_t *field(const post_state_t *st, const char *name)
{
    for (size_t i = 0; i < st->num_fields; i++) {
        if (text_ieq_str(st->fields[i].name, st->fields[i].name_len, name))
            return &st->fields[i];
    }
    return NULL;
}

static s3err_t missing_field(post_state_t *st, const char *name, const char **message)
{
    snprintf(st->message, sizeof(st->message),
             "Bucket POST must contain a field named '%s'.  If it is specified, please check the order of the fields.", name);
    *message = st->message;
    return S3ERR_INVALID_ARGUMENT;
}

/* ------------------------------------------------------------------ fields */

/* Replaces every ${filename} in v; the result is v itself or request-pool memory. Returns -1 when it grows past max. */
static int expand_filename(h2o_mem_pool_t *pool, postpolicy_field_t *f, const char *fname, size_t fname_len, size_t max)
{
    static const char var[] = "${filename}";
    const size_t var_len = sizeof(var) - 1;
    size_t count = 0, len;
    const char *p = f->value, *end = f->value + f->value_len, *hit;

    while ((hit = memmem(p, (size_t)(end - p), var, var_len)) != NULL) {
        count++;
        p = hit + var_len;
    }
    if (count == 0)
        return 0;
    len = f->value_len - count * var_len + count * fname_len;
    if (len > max)
        return -1;
    char *out = h2o_mem_alloc_pool(pool, len + 1), *o = out;
    for (p = f->value; (hit = memmem(p, (size_t)(end - p), var, var_len)) != NULL; p = hit + var_len) {
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, fname, fname_len);
        o += fname_len;
    }
    memcpy(o, p, (size_t)(end - p));
    out[len] = '\0';
    f->value = out;
    f->value_len = len;
    return 0;
}

/* Builds st->fields from the parsed form: repeated names joined with ',' (as AWS does), ${filename} expanded. */
static s3err_t collect_fields(s3_req_t *r, post_state_t *st)
{
    h2o_mem_pool_t *pool = &r->req->pool;
    const formdata_part_t *file = &st->form.file;
    const char *fname = "";
    size_t fname_len = 0;

    if (file->filename != NULL) { /* "If the browser provides a path, only the text after the last / or \ is used." */
        fname = file->filename;
        fname_len = file->filename_len;
        for (size_t i = file->filename_len; i > 0; i--) {
            if (file->filename[i - 1] == '/' || file->filename[i - 1] == '\\') {
                fname = file->filename + i;
                fname_len = file->filename_len - i;
                break;
            }
        }
    }
    /* One entry per name, in order of first appearance; a repeated name's values are joined in one allocation. */
    st->num_fields = 0;
    for (size_t i = 0; i < st->form.num_fields; i++) {
        const formdata_part_t *p = &st->form.fields[i];
        size_t count = 0, len = 0, seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen = text_ieq(p->name, p->name_len, st->form.fields[k].name, st->form.fields[k].name_len);
        if (seen)
            continue;
        for (size_t k = i; k < st->form.num_fields; k++) {
            if (text_ieq(p->name, p->name_len, st->form.fields[k].name, st->form.fields[k].name_len)) {
                len += (count != 0) + st->form.fields[k].data_len;
                count++;
            }
        }
        postpolicy_field_t *f = &st->fields[st->num_fields++];
        *f = (postpolicy_field_t){p->name, p->name_len, p->data, p->data_len};
        if (count == 1)
            continue;
        char *joined = h2o_mem_alloc_pool(pool, len + 1), *o = joined;
        for (size_t k = i, n = 0; k < st->form.num_fields; k++) {
            const formdata_part_t *q = &st->form.fields[k];
            if (!text_ieq(p->name, p->name_len, q->name, q->name_len))
                continue;
            if (n++ != 0)
                *o++ = ',';
            memcpy(o, q->data, q->data_len);
            o += q->data_len;
        }
        *o = '\0';
        f->value = joined;
        f->value_len = len;
    }
    for (size_t i = 0; i < st->num_fields; i++) {
        postpolicy_field_t *f = &st->fields[i];
        /* The signed strings are never expanded: the signature covers them as sent. */
        if (text_ieq_str(f->name, f->name_len, "policy") || text_ieq_str(f->name, f->name_len, "signature") ||
            text_ieq_str(f->name, f->name_len, "x-amz-signature"))
            continue;
        if (expand_filename(pool, f, fname, fname_len, POST_PRE_DATA_MAX) != 0)
            return S3ERR_MAX_POST_PRE_DATA_LENGTH_EXCEEDED;
    }
    return S3ERR_NONE;
}

/*
 * An acl_header_fn over the form (ctx: the post_state_t), for what PutObject reads from headers: the
 * acl field stands for x-amz-acl, in the object's ACL and in the bucket policy's s3:x-amz-acl. A
 * POST carries its x-amz-* values in the form, so its other x-amz-* headers count for nothing (a
 * form has no grant fields); the rest (Referer, User-Agent) are the request's own headers.
 */
static const char *form_header(void *ctx, const char *name, size_t *len)
{
    post_state_t *st = ctx;
    if (strcmp(name, ACL_HEADER_CANNED) == 0) {
        const postpolicy_field_t *f = field(st, "acl");
        *len = f != NULL ? f->value_len : 0;
        return f != NULL ? f->value : NULL;
    }
    if (strncmp(name, "x-amz-", 6) == 0)
        return NULL;
    return s3_header(st->r, name, len);
}

/* ------------------------------------------------------------------ authentication */

/* SigV4 form fields: x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature over the policy. */
static s3err_t authenticate_v4(s3_req_t *r, post_state_t *st, const postpolicy_field_t *policy, const char **message)
{
    static const char *const required[] = {"policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"};
    const postpolicy_field_t *alg, *cred, *date, *sig;
    sigv4_auth_t auth;
    uint8_t key[SIGV4_KEY_LEN];
    time_t when;
    int ok;

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (field(st, required[i]) == NULL)
            return missing_field(st, required[i], message);
    }
    alg = field(st, "x-amz-algorithm");
    cred = field(st, "x-amz-credential");
    date = field(st, "x-amz-date");
    sig = field(st, "x-amz-signature");
    if (!h2o_memis(alg->value, alg->value_len, H2O_STRLIT("AWS4-HMAC-SHA256"))) {
        *message = "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"";
        return S3ERR_INVALID_ARGUMENT;
    }
    if (postpolicy_parse_credential(cred->value, cred->value_len, &auth) != 0) {
        *message = "Error parsing the X-Amz-Credential field; it must look like <access-key-id>/<date>/<region>/s3/aws4_request.";
        return S3ERR_INVALID_ARGUMENT;
    }
    if (sigv4_parse_amz_date(date->value, date->value_len, &when) != 0) {
        *message = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"";
        return S3ERR_INVALID_ARGUMENT;
    }
    if (memcmp(auth.date, date->value, 8) != 0) {
        *message = "Invalid credential date. Date is not the same as X-Amz-Date.";
        return S3ERR_INVALID_ARGUMENT;
    }
    if (sigkey_cache_get(&r->thread->sigkeys, r->thread->server->keys, &auth, key, &r->user) != 0)
        return S3ERR_INVALID_ACCESS_KEY_ID;
    ok = postpolicy_verify_v4(key, policy->value, policy->value_len, sig->value, sig->value_len);
    explicit_bzero(key, sizeof(key));
    return ok ? S3ERR_NONE : S3ERR_SIGNATURE_DOES_NOT_MATCH;
}

/* SigV2 form fields: AWSAccessKeyId and signature (base64 HMAC-SHA1 of the policy). */
static s3err_t authenticate_v2(s3_req_t *r, post_state_t *st, const postpolicy_field_t *policy, const char **message)
{
    const postpolicy_field_t *akid = field(st, "awsaccesskeyid"), *sig = field(st, "signature");
    char access_key[sizeof(r->user.access_key)];
    int ok;

    if (policy == NULL)
        return missing_field(st, "policy", message);
    if (akid == NULL)
        return missing_field(st, "AWSAccessKeyId", message);
    if (sig == NULL)
        return missing_field(st, "signature", message);
    if (akid->value_len == 0 || akid->value_len >= sizeof(access_key) || memchr(akid->value, '\0', akid->value_len) != NULL)
        return S3ERR_INVALID_ACCESS_KEY_ID;
    memcpy(access_key, akid->value, akid->value_len);
    access_key[akid->value_len] = '\0';
    if (keys_lookup(r->thread->server->keys, access_key, &r->user) != 0)
        return S3ERR_INVALID_ACCESS_KEY_ID;
    ok = postpolicy_verify_v2(r->user.secret, strlen(r->user.secret), policy->value, policy->value_len, sig->value, sig->value_len);
    explicit_bzero(r->user.secret, sizeof(r->user.secret));
    return ok ? S3ERR_NONE : S3ERR_SIGNATURE_DOES_NOT_MATCH;
}

/* Authenticates from the form. No credential at all leaves the request anonymous (authz_request_with decides). */
static s3err_t authenticate_form(s3_req_t *r, post_state_t *st, const char **message)
{
    const postpolicy_field_t *policy = field(st, "policy");
    s3err_t err;

    if (field(st, "x-amz-signature") != NULL || field(st, "x-amz-credential") != NULL || field(st, "x-amz-algorithm") != NULL)
        err = authenticate_v4(r, st, policy, message);
    else if (field(st, "awsaccesskeyid") != NULL || field(st, "signature") != NULL)
        err = authenticate_v2(r, st, policy, message);
    else if (policy != NULL) /* a policy means nothing unless someone signed it */
        err = missing_field(st, "AWSAccessKeyId", message);
    else
        return S3ERR_NONE;
    if (err == S3ERR_NONE)
        r->authenticated = 1;
    else
        memset(&r->user, 0, sizeof(r->user));
    return err;
}

/* ------------------------------------------------------------------ what is stored */

static int header_value_ok(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

static int header_name_ok(const char *n, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL) ||
            c == '\0')
            return 0;
    }
    return len != 0;
}

/* Collects the fields kept with the object (content headers and x-amz-meta-*), with lower-case names. */
static s3err_t collect_headers(s3_req_t *r, post_state_t *st, size_t *num, const char **message)
{
    size_t n = 0, meta_bytes = 0;
    int has_type = 0;

    for (size_t i = 0; i < st->num_fields; i++) {
        const postpolicy_field_t *f = &st->fields[i];
        int meta = f->name_len > 11 && h2o_lcstris(f->name, 11, H2O_STRLIT("x-amz-meta-"));
        int stored = meta;
        for (size_t k = 0; k < sizeof(post_stored_fields) / sizeof(post_stored_fields[0]) && !stored; k++)
            stored = h2o_lcstris(f->name, f->name_len, post_stored_fields[k], strlen(post_stored_fields[k]));
        if (!stored)
            continue;
        if (!header_name_ok(f->name, f->name_len) || !header_value_ok(f->value, f->value_len)) {
            snprintf(st->message, sizeof(st->message),
                     "The form field %.*s cannot be stored as a header: it holds a control character.",
                     (int)(f->name_len < 128 ? f->name_len : 128), f->name);
            *message = st->message;
            return S3ERR_INVALID_ARGUMENT;
        }
        if (meta)
            meta_bytes += f->name_len - 11 + f->value_len;
        if (n == S3_STORED_HEADERS_MAX - 2 || meta_bytes > POST_USER_METADATA_MAX) /* room for the type and the ACL */
            return S3ERR_METADATA_TOO_LARGE;
        char *name = h2o_mem_alloc_pool(&r->req->pool, f->name_len + 1);
        for (size_t k = 0; k < f->name_len; k++)
            name[k] = h2o_tolower(f->name[k]);
        name[f->name_len] = '\0';
        if (h2o_memis(name, f->name_len, H2O_STRLIT("content-type")))
            has_type = 1;
        st->headers[n++] = (store_kv_t){name, f->name_len, f->value, f->value_len};
    }
    /* a <Tagging> document, stored as PutObject stores x-amz-tagging */
    const postpolicy_field_t *tagging = field(st, "tagging");
    int has_tags = 0;
    s3err_t err;
    if (tagging != NULL &&
        (err = s3_tagging_from_document(r, tagging->value, tagging->value_len, &st->headers[n], &has_tags, message)) != S3ERR_NONE)
        return err;
    if (has_tags && ++n + !has_type > S3_STORED_HEADERS_MAX - 1)
        return S3ERR_METADATA_TOO_LARGE;
    if (!has_type) /* the file part's own Content-Type is not used: only the policy-checked field counts */
        st->headers[n++] = (store_kv_t){H2O_STRLIT("content-type"), H2O_STRLIT("binary/octet-stream")};
    int has_acl; /* the acl field, as PutObject's x-amz-acl */
    if ((err = authz_new_object_acl_with(r, form_header, st, &st->headers[n], &has_acl, message)) != S3ERR_NONE)
        return err;
    *num = n + has_acl;
    return S3ERR_NONE;
}

/* Whether a success_action_redirect can be used: an absolute http(s) URL that is safe in a Location header. */
static int redirect_usable(const char *v, size_t len)
{
    size_t scheme = len >= 7 && h2o_lcstris(v, 7, H2O_STRLIT("http://"))    ? 7
                    : len >= 8 && h2o_lcstris(v, 8, H2O_STRLIT("https://")) ? 8
                                                                            : 0;
    if (scheme == 0 || len == scheme || len > 2048)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ the answer */

/* The object's URL, as AWS reports it in Location: the request's scheme and host, then bucket and key. */
static h2o_iovec_t object_url(s3_req_t *r, const char *key, size_t key_len)
{
    h2o_req_t *req = r->req;
    const h2o_url_scheme_t *scheme = req->scheme != NULL ? req->scheme : &H2O_URL_SCHEME_HTTP;
    size_t cap = scheme->name.len + 3 + req->authority.len + 1 + r->route.bucket_len + 1 + 3 * key_len + 1;
    char *out = h2o_mem_alloc_pool(&req->pool, cap);
    int n =
        snprintf(out, cap, "%.*s://%.*s/", (int)scheme->name.len, scheme->name.base, (int)req->authority.len, req->authority.base);
    if (!r->route.virtual_host)
        n += snprintf(out + n, cap - (size_t)n, "%s/", r->route.bucket);
    n += (int)sigv4_uri_encode(key, key_len, 1, out + n);
    return h2o_iovec_init(out, (size_t)n);
}

/* The redirect target: the URL with bucket, key and etag added to its query (before any fragment). */
static h2o_iovec_t redirect_url(s3_req_t *r, const post_state_t *st, const char *etag, size_t etag_len)
{
    const char *hash = memchr(st->redirect, '#', st->redirect_len);
    size_t base_len = hash != NULL ? (size_t)(hash - st->redirect) : st->redirect_len;
    size_t cap = st->redirect_len + 32 + 3 * (r->route.bucket_len + st->key_len + etag_len);
    char *out = h2o_mem_alloc_pool(&r->req->pool, cap);
    size_t n = 0;

    memcpy(out, st->redirect, base_len);
    n = base_len;
    out[n++] = memchr(st->redirect, '?', base_len) != NULL ? '&' : '?';
    memcpy(out + n, "bucket=", 7);
    n += 7 + sigv4_uri_encode(r->route.bucket, r->route.bucket_len, 0, out + n + 7);
    memcpy(out + n, "&key=", 5);
    n += 5 + sigv4_uri_encode(st->key, st->key_len, 1, out + n + 5);
    memcpy(out + n, "&etag=", 6);
    n += 6 + sigv4_uri_encode(etag, etag_len, 0, out + n + 6);
    memcpy(out + n, st->redirect + base_len, st->redirect_len - base_len);
    n += st->redirect_len - base_len;
    return h2o_iovec_init(out, n);
}

static void send_success(s3_req_t *r, const post_state_t *st, const char *etag)
{
    h2o_req_t *req = r->req;
    size_t etag_len = strlen(etag);

    s3_add_header(r, "etag", etag, etag_len);
    if (st->redirect != NULL) {
        h2o_iovec_t to = redirect_url(r, st, etag, etag_len);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, to.base, to.len);
        s3_send_empty(r, 303);
        return;
    }
    h2o_iovec_t location = object_url(r, st->key, st->key_len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_LOCATION, NULL, location.base, location.len);
    if (st->status == 201) {
        xmlw_t w;
        xmlw_init(&w);
        xmlw_open(&w, "PostResponse");
        xmlw_elem(&w, "Location", location.base, location.len);
        xmlw_elem(&w, "Bucket", r->route.bucket, r->route.bucket_len);
        xmlw_elem(&w, "Key", st->key, st->key_len);
        xmlw_elem(&w, "ETag", etag, etag_len);
        xmlw_close(&w, "PostResponse");
        s3_send_xml(r, 201, &w);
        return;
    }
    s3_send_empty(r, st->status);
}

/* ------------------------------------------------------------------ the job */

static void run_post_object(s3_job_t *j)
{
    s3_req_t *r = j->r;
    post_state_t *st = (post_state_t *)j->extra;
    h2o_req_t *req = r->req;
    store_object_t obj;
    int rc;

    switch (formdata_parse_rest(&st->form, req->entity.base, req->entity.len)) {
    case FORMDATA_OK:
        break;
    case FORMDATA_MANY_FILES:
        j->err = S3ERR_INCORRECT_NUMBER_OF_FILES;
        return;
    default:
        j->err = S3ERR_MALFORMED_POST_REQUEST;
        return;
    }
    size_t size = st->form.file.data_len;
    if (st->policy.has_length_range && size < st->policy.min_length) {
        j->err = S3ERR_ENTITY_TOO_SMALL;
        j->err_message = "Your proposed upload is smaller than the minimum allowed size";
        return;
    }
    if ((st->policy.has_length_range && size > st->policy.max_length) || size > POST_OBJECT_MAX) {
        j->err = S3ERR_ENTITY_TOO_LARGE;
        j->err_message = "Your proposed upload exceeds the maximum allowed size";
        return;
    }
    st->body.iov_base = (void *)st->form.file.data;
    st->body.iov_len = size;
    if ((rc = store_object_put(r->thread->server->store, &st->put, &obj)) != 0) {
        j->err = s3err_from_store(rc);
        return;
    }
    s3_format_etag(obj.md5, 0, j->etag);
}

static void post_done(iopool_job_t *job)
{
    s3_job_t *j = (s3_job_t *)job;
    s3_req_t *r = j->r;

    s3_job_finished(r->thread);
    if (j->err != S3ERR_NONE)
        s3_send_error(r, j->err, j->err_message);
    else
        send_success(r, (post_state_t *)j->extra, j->etag);
    free(j);
}

/* Everything the loop does: parse the form's head, authenticate, authorize, check the policy, prepare the put. */
static s3err_t prepare(s3_req_t *r, post_state_t *st, const char *boundary, size_t boundary_len, const char **message)
{
    h2o_req_t *req = r->req;
    const postpolicy_field_t *policy, *key, *f;
    size_t num_headers;
    s3err_t err;

    switch (formdata_parse_head(&st->form, req->entity.base, req->entity.len, boundary, boundary_len, POST_PRE_DATA_MAX)) {
    case FORMDATA_OK:
        break;
    case FORMDATA_NO_FILE:
        return S3ERR_INCORRECT_NUMBER_OF_FILES;
    case FORMDATA_TOO_LARGE:
        return S3ERR_MAX_POST_PRE_DATA_LENGTH_EXCEEDED;
    default:
        return S3ERR_MALFORMED_POST_REQUEST;
    }
    if ((err = collect_fields(r, st)) != S3ERR_NONE)
        return err;
    if ((err = authenticate_form(r, st, message)) != S3ERR_NONE)
        return err;
    if ((key = field(st, "key")) == NULL)
        return missing_field(st, "key", message);
    if (key->value_len == 0) {
        *message = "User key must have a length greater than 0.";
        return S3ERR_INVALID_ARGUMENT;
    }
    if (key->value_len > STORE_KEY_MAX)
        return S3ERR_KEY_TOO_LONG;
    /* the route names the bucket only: the object is the form's key, for the policy's Resource as for the put */
    r->route.key = key->value;
    r->route.key_len = key->value_len;
    if ((err = authz_request_with(r, form_header, st)) != S3ERR_NONE)
        return err;
    if ((policy = field(st, "policy")) != NULL) {
        postpolicy_request_t preq = {
            .policy = policy->value,
            .policy_len = policy->value_len,
            .fields = st->fields,
            .num_fields = st->num_fields,
            .bucket = r->route.bucket,
            .bucket_len = r->route.bucket_len,
            .now = time(NULL),
        };
        switch (postpolicy_check(&preq, &st->policy)) {
        case POSTPOLICY_OK:
            break;
        case POSTPOLICY_INVALID:
            *message = st->policy.message;
            return S3ERR_INVALID_POLICY_DOCUMENT;
        default:
            *message = st->policy.message;
            return S3ERR_ACCESS_DENIED;
        }
    }
    st->key = key->value;
    st->key_len = key->value_len;
    if ((err = collect_headers(r, st, &num_headers, message)) != S3ERR_NONE)
        return err;

    if (((f = field(st, "success_action_redirect")) != NULL || (f = field(st, "redirect")) != NULL) &&
        redirect_usable(f->value, f->value_len)) {
        st->redirect = f->value;
        st->redirect_len = f->value_len;
    }
    st->status = 204; /* "If the value is not set or if it is set to an invalid value, Amazon S3 returns ... 204" */
    if ((f = field(st, "success_action_status")) != NULL) {
        if (h2o_memis(f->value, f->value_len, H2O_STRLIT("200")))
            st->status = 200;
        else if (h2o_memis(f->value, f->value_len, H2O_STRLIT("201")))
            st->status = 201;
    }

    st->put.bucket = r->route.bucket;
    st->put.key = st->key;
    st->put.key_len = st->key_len;
    st->put.body = &st->body;
    st->put.body_iovcnt = 1;
    st->put.headers = st->headers;
    st->put.num_headers = num_headers;
    return S3ERR_NONE;
}

void ops_post_object(s3_req_t *r)
{
    h2o_req_t *req = r->req;
    const char *ct, *boundary;
    size_t ct_len, boundary_len;

    ct = s3_header(r, "content-type", &ct_len);
    if (ct == NULL || ct_len < 19 || !h2o_lcstris(ct, 19, H2O_STRLIT("multipart/form-data"))) {
        s3_send_error(r, S3ERR_PRECONDITION_FAILED, "Bucket POST must be of the enclosure-type multipart/form-data");
        return;
    }
    if (formdata_boundary(ct, ct_len, &boundary, &boundary_len) != 0 || req->entity.base == NULL) {
        s3_send_error(r, S3ERR_MALFORMED_POST_REQUEST, NULL);
        return;
    }

    s3_job_t *j = s3_job_new(r, run_post_object, sizeof(post_state_t));
    j->super.done = post_done; /* the answer may be a redirect or a PostResponse with a Location */
    post_state_t *st = (post_state_t *)j->extra;
    st->r = r;
    const char *message = NULL;
    s3err_t err = prepare(r, st, boundary, boundary_len, &message);
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, message); /* message may point into st */
        return;
    }
    s3_job_start(j);
}
