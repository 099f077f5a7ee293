/* server/ops_list.c -- ListObjects (V1) and ListObjectsV2.
 *
 * DESIGN: storage walks the bucket in S3 order and rolls keys up into common
 * prefixes (seeking past each one); this file only validates parameters and
 * writes the XML. A V2 continuation token is the base64url of the last key or
 * prefix returned, i.e. an exclusive start point: it stays valid however the
 * bucket changes in between, and needs no server-side state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
#include "server/handler.h"

typedef struct list_state {
    int v2;
    int url_encode;
    int fetch_owner;
    store_list_params_t params;
    const char *marker; /* V1 marker or V2 start-after, as given */
    size_t marker_len;
    const char *token; /* V2 continuation-token, as given */
    size_t token_len;
    size_t max_keys;
    char *start; /* owned: the decoded start point */
    size_t start_len;
} list_state_t;

typedef struct list_walk {
    s3_job_t *job;
    list_state_t *st;
    xmlw_t contents; /* <Contents> then <CommonPrefixes>, in the order met */
    size_t count;
    char last[STORE_KEY_MAX + 1];
    size_t last_len;
} list_walk_t;

void s3_xml_key(xmlw_t *w, const char *tag, const char *v, size_t len, int url_encode)
{
    if (!url_encode) {
        xmlw_elem(w, tag, v, len);
        return;
    }
    char stackbuf[3 * 256 + 1];
    char *enc = len <= 256 ? stackbuf : malloc(3 * len + 1);
    if (enc == NULL)
        abort();
    size_t n = sigv4_uri_encode(v, len, 1, enc);
    xmlw_elem(w, tag, enc, n);
    if (enc != stackbuf)
        free(enc);
}

int s3_parse_encoding_type(s3_req_t *r, int *url_encode)
{
    size_t len;
    const char *v = route_param(&r->route, "encoding-type", &len);
    *url_encode = v != NULL;
    return v == NULL || strcmp(v, "url") == 0 ? 0 : -1;
}

int s3_parse_list_limit(const char *v, size_t len, size_t *out)
{
    uint64_t n;
    if (s3_parse_uint(v, len, INT32_MAX, &n) != 0) /* AWS: "not an integer or within integer range" */
        return -1;
    *out = n > S3_LIST_MAX ? S3_LIST_MAX : (size_t)n;
    return 0;
}

static int on_entry(void *ctx, const store_list_entry_t *e)
{
    list_walk_t *lw = ctx;
    xmlw_t *w = &lw->contents;
    int enc = lw->st->url_encode;
    if (e->is_prefix) {
        xmlw_open(w, "CommonPrefixes");
        s3_xml_key(w, "Prefix", e->key, e->key_len, enc);
        xmlw_close(w, "CommonPrefixes");
    } else {
        xmlw_open(w, "Contents");
        s3_xml_key(w, "Key", e->key, e->key_len, enc);
        xmlw_elem_time(w, "LastModified", e->mtime_ns);
        xmlw_elem_etag_parts(w, "ETag", e->md5, e->num_parts);
        xmlw_elem_u64(w, "Size", e->size);
        if (!lw->st->v2 || lw->st->fetch_owner) {
            s3_xml_owner(w, "Owner", &lw->job->r->user);
        }
        xmlw_elem_str(w, "StorageClass", "STANDARD");
        xmlw_close(w, "Contents");
    }
    memcpy(lw->last, e->key, e->key_len);
    lw->last_len = e->key_len;
    ++lw->count;
    return 0;
}

static void run_list(s3_job_t *j)
{
    list_state_t *st = (list_state_t *)j->extra;
    s3_req_t *r = j->r;
    list_walk_t *lw = calloc(1, sizeof(*lw));
    if (lw == NULL)
        abort();
    lw->job = j;
    lw->st = st;
    int truncated = 0;
    int rc = store_object_list(r->thread->server->store, &st->params, on_entry, lw, &truncated);
    if (rc != 0) {
        j->err = s3err_from_store(rc);
        goto Exit;
    }

    xmlw_t *w = &j->xml;
    xmlw_init(w);
    xmlw_open(w, "ListBucketResult " S3_XMLNS);
    xmlw_elem(w, "Name", r->route.bucket, r->route.bucket_len);
    s3_xml_key(w, "Prefix", st->params.prefix != NULL ? st->params.prefix : "", st->params.prefix_len, st->url_encode);
    if (st->params.delimiter != NULL)
        s3_xml_key(w, "Delimiter", st->params.delimiter, st->params.delimiter_len, st->url_encode);
    xmlw_elem_u64(w, "MaxKeys", st->max_keys);
    if (st->url_encode)
        xmlw_elem_str(w, "EncodingType", "url");
    xmlw_elem_str(w, "IsTruncated", truncated ? "true" : "false");
    if (st->v2) {
        xmlw_elem_u64(w, "KeyCount", lw->count);
        if (st->token != NULL)
            xmlw_elem(w, "ContinuationToken", st->token, st->token_len);
        if (st->marker != NULL)
            s3_xml_key(w, "StartAfter", st->marker, st->marker_len, st->url_encode);
        if (truncated) {
            char *tok = malloc(h2o_base64_encode_capacity(lw->last_len) + 1);
            if (tok == NULL)
                abort();
            size_t n = h2o_base64_encode(tok, lw->last, lw->last_len, 1);
            xmlw_elem(w, "NextContinuationToken", tok, n);
            free(tok);
        }
    } else {
        s3_xml_key(w, "Marker", st->marker != NULL ? st->marker : "", st->marker_len, st->url_encode);
        if (truncated && st->params.delimiter != NULL)
            s3_xml_key(w, "NextMarker", lw->last, lw->last_len, st->url_encode);
    }
    if (lw->contents.len != 0)
        xmlw_raw(w, lw->contents.buf, lw->contents.len);
    xmlw_close(w, "ListBucketResult");
    j->has_xml = 1;
Exit:
    xmlw_free(&lw->contents);
    free(lw);
    free(st->start);
}

void ops_list_objects(s3_req_t *r, int v2)
{
    s3_job_t *j = s3_job_new(r, run_list, sizeof(list_state_t));
    list_state_t *st = (list_state_t *)j->extra;
    st->v2 = v2;
    st->max_keys = S3_LIST_MAX;
    size_t len;
    const char *v;
    const char *message = NULL;

    if ((v = route_param(&r->route, "max-keys", &len)) != NULL && s3_parse_list_limit(v, len, &st->max_keys) != 0) {
        message = "Provided max-keys not an integer or within integer range";
        goto Invalid;
    }
    if (s3_parse_encoding_type(r, &st->url_encode) != 0) {
        message = "Invalid Encoding Method specified in Request";
        goto Invalid;
    }
    if ((v = route_param(&r->route, "fetch-owner", &len)) != NULL)
        st->fetch_owner = strcmp(v, "true") == 0;
    st->params.bucket = r->route.bucket;
    st->params.prefix = route_param(&r->route, "prefix", &st->params.prefix_len);
    st->params.delimiter = route_param(&r->route, "delimiter", &st->params.delimiter_len);
    if (st->params.delimiter != NULL && st->params.delimiter_len == 0)
        st->params.delimiter = NULL; /* an empty delimiter means none */
    st->params.max_keys = st->max_keys;
    st->marker = route_param(&r->route, v2 ? "start-after" : "marker", &st->marker_len);
    if (st->marker != NULL && st->marker_len == 0)
        st->marker = NULL;
    if (st->marker != NULL) {
        st->params.start_after = st->marker;
        st->params.start_after_len = st->marker_len;
    }
    if (v2 && (st->token = route_param(&r->route, "continuation-token", &st->token_len)) != NULL) {
        h2o_iovec_t dec = h2o_decode_base64url(&r->req->pool, st->token, st->token_len);
        if (st->token_len == 0 || dec.base == NULL || dec.len > STORE_KEY_MAX) {
            message = "The continuation token provided is incorrect";
            goto Invalid;
        }
        st->params.start_after = dec.base; /* pool memory: alive until the answer is sent */
        st->params.start_after_len = dec.len;
    }
    s3_job_start(j);
    return;

Invalid:
    s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, message);
}

void ops_list_object_versions(s3_req_t *r)
{
    s3_send_error(r, S3ERR_NOT_IMPLEMENTED, NULL);
}
