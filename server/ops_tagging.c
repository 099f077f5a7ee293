/* server/ops_tagging.c -- GetObjectTagging, PutObjectTagging, DeleteObjectTagging,
 * GetBucketTagging, PutBucketTagging, DeleteBucketTagging.
 *
 * DESIGN: an object's tags are its stored header "x-amz-tagging" in canonical
 * form (server/tagging.h), so PutObjectTagging and DeleteObjectTagging rewrite
 * the object's headers with store_object_update, under the key's lock, keeping
 * data, ETag and Last-Modified; a concurrent PutObject either lands before (and
 * gets the tags) or after (and replaces them, as S3 does). A bucket's tags are
 * its "tagging" configuration document. Bodies are small documents, parsed on
 * the loop; the synced writes run in a job, lookups are point reads on the loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/authz.h"
#include "server/handler.h"
#include "server/payload.h"
#include "server/tagging.h"

/* Turns a parsed set into the stored header (canonical form in the request's pool) and frees it. */
static void stored_tags(struct s3_req *r, tagging_set_t *set, store_kv_t *out, int *found)
{
    *found = set->num_tags != 0;
    if (*found) {
        char *enc = h2o_mem_alloc_pool(&r->req->pool, tagging_encoded_size(set));
        *out = (store_kv_t){H2O_STRLIT(TAGGING_HEADER), enc, tagging_encode(set, enc)};
    }
    tagging_set_free(set);
}

s3err_t s3_tagging_from_header(struct s3_req *r, store_kv_t *out, int *found, const char **message)
{
    size_t len;
    const char *v = s3_header(r, TAGGING_HEADER, &len);
    tagging_set_t set;
    *found = 0;
    *message = NULL;
    if (v == NULL)
        return S3ERR_NONE;
    s3err_t err = tagging_parse_query(v, len, TAGGING_OBJECT, &set, message);
    if (err == S3ERR_NONE)
        stored_tags(r, &set, out, found);
    return err;
}

s3err_t s3_tagging_from_document(struct s3_req *r, const char *doc, size_t len, store_kv_t *out, int *found, const char **message)
{
    tagging_set_t set;
    *found = 0;
    s3err_t err = tagging_parse_xml(doc, len, TAGGING_OBJECT, &set, message);
    if (err == S3ERR_NONE)
        stored_tags(r, &set, out, found);
    return err;
}

/* Reads a PUT's <Tagging> body into the canonical form to store (*tags stays NULL for an empty TagSet).
 * Returns 0, or -1 after refusing j with the body's error. */
static int read_tagging_body(s3_job_t *j, tagging_kind_t kind, char **tags, size_t *tags_len)
{
    s3_req_t *r = j->r;
    const char *message;
    tagging_set_t set;
    /* AWS requires an integrity header on PutBucketTagging, not on PutObjectTagging */
    s3err_t err = s3_check_document_body(r, TAGGING_DOC_MAX, kind == TAGGING_BUCKET, &message);
    if (err == S3ERR_NONE)
        err = tagging_parse_xml(r->req->entity.base, r->req->entity.len, kind, &set, &message);
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
        return -1;
    }
    if (set.num_tags != 0) {
        if ((*tags = malloc(tagging_encoded_size(&set))) == NULL)
            abort();
        *tags_len = tagging_encode(&set, *tags);
    }
    tagging_set_free(&set);
    return 0;
}

/* Answers a GET with the tags stored in canonical form as v: 200 and a <Tagging> document, or 500 when v does not decode. */
static void send_tagging(s3_req_t *r, const char *v, size_t len)
{
    tagging_set_t set;
    if (tagging_decode(v, len, &set) != 0) {
        s3_send_error(r, S3ERR_INTERNAL_ERROR, NULL);
        return;
    }
    xmlw_t w;
    xmlw_init(&w);
    tagging_write_xml(&w, &set);
    tagging_set_free(&set);
    s3_send_xml(r, 200, &w);
}

/* ------------------------------------------------------------------ objects */

typedef struct object_tagging_state {
    char *tags; /* owned: the canonical form to store; NULL removes the tags */
    size_t tags_len;
    store_kv_t *headers; /* owned: the rewritten headers, built under the key's lock */
} object_tagging_state_t;

/* store_update_fn: the object's headers with its tags replaced. */
static int replace_tags(void *ctx, const store_object_t *cur, const store_kv_t **headers, size_t *num_headers)
{
    object_tagging_state_t *st = ctx;
    size_t n = 0;
    free(st->headers); /* from an earlier call, should storage ever retry */
    if ((st->headers = malloc((cur->num_headers + 1) * sizeof(*st->headers))) == NULL)
        abort();
    for (size_t i = 0; i < cur->num_headers; i++) {
        if (!h2o_memis(cur->headers[i].name, cur->headers[i].name_len, H2O_STRLIT(TAGGING_HEADER)))
            st->headers[n++] = cur->headers[i];
    }
    if (st->tags != NULL)
        st->headers[n++] = (store_kv_t){H2O_STRLIT(TAGGING_HEADER), st->tags, st->tags_len};
    *headers = st->headers;
    *num_headers = n;
    return 0;
}

static void run_update_object_tagging(s3_job_t *j)
{
    s3_req_t *r = j->r;
    object_tagging_state_t *st = (object_tagging_state_t *)j->extra;
    int rc = store_object_update(r->thread->server->store, r->route.bucket, r->route.key, r->route.key_len, replace_tags, st);
    free(st->headers);
    free(st->tags);
    if (rc != 0)
        j->err = s3err_from_store(rc);
    j->status = r->route.op == S3OP_DELETE_OBJECT_TAGGING ? 204 : 200;
}

static void get_object_tagging(s3_req_t *r)
{
    store_object_t obj;
    if (authz_get_object(r, &obj) != 0)
        return;
    const char *tags = ""; /* an object without tags answers an empty TagSet */
    size_t tags_len = 0;
    for (size_t i = 0; i < obj.num_headers; i++) {
        const store_kv_t *h = &obj.headers[i];
        if (h2o_memis(h->name, h->name_len, H2O_STRLIT(TAGGING_HEADER)))
            tags = h->value, tags_len = h->value_len;
    }
    send_tagging(r, tags, tags_len);
    store_object_free(&obj);
}

void ops_object_tagging(s3_req_t *r)
{
    if (r->route.op == S3OP_GET_OBJECT_TAGGING) {
        get_object_tagging(r);
        return;
    }
    if (r->authz_deferred) { /* who may change the tags depends on whose object it is */
        store_object_t obj;
        if (authz_get_object(r, &obj) != 0)
            return;
        store_object_free(&obj);
    }
    s3_job_t *j = s3_job_new(r, run_update_object_tagging, sizeof(object_tagging_state_t));
    object_tagging_state_t *st = (object_tagging_state_t *)j->extra;
    if (r->route.op == S3OP_PUT_OBJECT_TAGGING && read_tagging_body(j, TAGGING_OBJECT, &st->tags, &st->tags_len) != 0)
        return;
    s3_job_start(j);
}

/* ------------------------------------------------------------------ buckets */

typedef struct bucket_tagging_state {
    char *tags; /* owned: the canonical form to store; NULL deletes the document */
    size_t tags_len;
} bucket_tagging_state_t;

static void run_update_bucket_tagging(s3_job_t *j)
{
    s3_req_t *r = j->r;
    bucket_tagging_state_t *st = (bucket_tagging_state_t *)j->extra;
    store_t *store = r->thread->server->store;
    int rc = st->tags != NULL ? store_bucket_conf_put(store, r->route.bucket, TAGGING_BUCKET_CONF, st->tags, st->tags_len)
                              : store_bucket_conf_delete(store, r->route.bucket, TAGGING_BUCKET_CONF);
    free(st->tags);
    if (rc != 0)
        j->err = s3err_from_store(rc);
    j->status = 204;
}

static void get_bucket_tagging(s3_req_t *r)
{
    void *val;
    size_t len;
    int rc = store_bucket_conf_get(r->thread->server->store, r->route.bucket, TAGGING_BUCKET_CONF, &val, &len);
    if (rc != 0) {
        s3_send_error(r, rc == -ENOENT ? S3ERR_NO_SUCH_TAG_SET : s3err_from_store(rc), NULL);
        return;
    }
    send_tagging(r, val, len);
    free(val);
}

void ops_bucket_tagging(s3_req_t *r)
{
    if (r->route.op == S3OP_GET_BUCKET_TAGGING) {
        get_bucket_tagging(r);
        return;
    }
    s3_job_t *j = s3_job_new(r, run_update_bucket_tagging, sizeof(bucket_tagging_state_t));
    bucket_tagging_state_t *st = (bucket_tagging_state_t *)j->extra;
    /* an empty TagSet leaves the bucket without tags */
    if (r->route.op == S3OP_PUT_BUCKET_TAGGING && read_tagging_body(j, TAGGING_BUCKET, &st->tags, &st->tags_len) != 0)
        return;
    s3_job_start(j);
}
