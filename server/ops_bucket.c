/* server/ops_bucket.c -- bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 * GetBucketLocation, GetBucketVersioning, and the read-only ACL answer.
 *
 * DESIGN: each operation validates on the loop and runs its storage calls in
 * an s3_job on a worker (bucket create/delete are synced writes). Buckets are
 * owned by the creating user's name, which stays stable when keys rotate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/handler.h"

void s3_xml_owner(xmlw_t *w, const char *tag, const keys_user_t *u)
{
    xmlw_open(w, tag);
    xmlw_elem_str(w, "ID", u->canonical_id);
    xmlw_elem_str(w, "DisplayName", u->name);
    xmlw_close(w, tag);
}

typedef struct list_buckets_ctx {
    xmlw_t *w;
    const char *owner;
} list_buckets_ctx_t;

static int on_bucket(void *ctx, const store_bucket_t *b)
{
    list_buckets_ctx_t *c = ctx;
    if (strcmp(b->owner, c->owner) != 0)
        return 0;
    xmlw_open(c->w, "Bucket");
    xmlw_elem_str(c->w, "Name", b->name);
    xmlw_elem_time(c->w, "CreationDate", b->created_ns);
    xmlw_close(c->w, "Bucket");
    return 0;
}

static void run_list_buckets(s3_job_t *j)
{
    s3_req_t *r = j->r;
    xmlw_init(&j->xml);
    xmlw_open(&j->xml, "ListAllMyBucketsResult " S3_XMLNS);
    s3_xml_owner(&j->xml, "Owner", &r->user);
    xmlw_open(&j->xml, "Buckets");
    list_buckets_ctx_t ctx = {&j->xml, r->user.name};
    int rc = store_bucket_list(r->thread->server->store, on_bucket, &ctx);
    xmlw_close(&j->xml, "Buckets");
    xmlw_close(&j->xml, "ListAllMyBucketsResult");
    if (rc != 0)
        j->err = s3err_from_store(rc);
    j->has_xml = 1;
}

void ops_list_buckets(s3_req_t *r)
{
    s3_job_start(s3_job_new(r, run_list_buckets, 0));
}

typedef struct create_bucket_state {
    char region[64];
} create_bucket_state_t;

static void run_create_bucket(s3_job_t *j)
{
    s3_req_t *r = j->r;
    create_bucket_state_t *st = (create_bucket_state_t *)j->extra;
    store_t *store = r->thread->server->store;
    int rc = store_bucket_create(store, r->route.bucket, r->user.name, st->region);
    if (rc == -EEXIST) {
        store_bucket_t b;
        if (store_bucket_get(store, r->route.bucket, &b) == 0 && strcmp(b.owner, r->user.name) == 0)
            j->err = S3ERR_BUCKET_ALREADY_OWNED_BY_YOU;
        else
            j->err = S3ERR_BUCKET_ALREADY_EXISTS;
        return;
    }
    if (rc != 0) {
        j->err = s3err_from_store(rc);
        return;
    }
    j->header_name = "location";
    snprintf(j->header_value, sizeof(j->header_value), "/%s", r->route.bucket);
}

void ops_create_bucket(s3_req_t *r)
{
    if (!router_bucket_name_valid(r->route.bucket, r->route.bucket_len)) {
        s3_send_error(r, S3ERR_INVALID_BUCKET_NAME, NULL);
        return;
    }
    s3_job_t *j = s3_job_new(r, run_create_bucket, sizeof(create_bucket_state_t));
    create_bucket_state_t *st = (create_bucket_state_t *)j->extra;
    h2o_iovec_t body = r->req->entity;
    if (body.base != NULL && xml_parse_create_bucket(body.base, body.len, st->region, sizeof(st->region)) != 0) {
        s3_job_refuse(j, S3ERR_MALFORMED_XML, NULL);
        return;
    }
    s3_job_start(j);
}

/* Looks the bucket up on the loop: a RocksDB point read that does not sync. */
static int lookup_bucket(s3_req_t *r, store_bucket_t *b)
{
    int rc = store_bucket_get(r->thread->server->store, r->route.bucket, b);
    if (rc != 0) {
        s3_send_error(r, s3err_from_store(rc), NULL);
        return -1;
    }
    return 0;
}

static const char *bucket_region(s3_req_t *r, const store_bucket_t *b)
{
    return b->region[0] != '\0' ? b->region : r->thread->server->cfg.region;
}

void ops_head_bucket(s3_req_t *r)
{
    store_bucket_t b;
    if (lookup_bucket(r, &b) != 0)
        return;
    const char *region = bucket_region(r, &b);
    s3_add_header(r, "x-amz-bucket-region", region, strlen(region));
    s3_send_empty(r, 200);
}

static void run_delete_bucket(s3_job_t *j)
{
    int rc = store_bucket_delete(j->r->thread->server->store, j->r->route.bucket);
    if (rc != 0)
        j->err = s3err_from_store(rc);
    j->status = 204;
}

void ops_delete_bucket(s3_req_t *r)
{
    s3_job_start(s3_job_new(r, run_delete_bucket, 0));
}

void ops_get_bucket_location(s3_req_t *r)
{
    store_bucket_t b;
    if (lookup_bucket(r, &b) != 0)
        return;
    xmlw_t w;
    xmlw_init(&w);
    /* us-east-1 is reported as an empty LocationConstraint, as AWS does. */
    const char *region = bucket_region(r, &b);
    if (strcmp(region, "us-east-1") == 0)
        region = "";
    xmlw_elem_str(&w, "LocationConstraint " S3_XMLNS, region);
    s3_send_xml(r, 200, &w);
}

void ops_get_bucket_versioning(s3_req_t *r)
{
    store_bucket_t b;
    if (lookup_bucket(r, &b) != 0)
        return;
    xmlw_t w;
    xmlw_init(&w);
    xmlw_raw(&w, "<VersioningConfiguration " S3_XMLNS "/>", strlen("<VersioningConfiguration " S3_XMLNS "/>"));
    s3_send_xml(r, 200, &w);
}

/* Owner-only access is all there is until ACLs arrive: answer with the owner's FULL_CONTROL grant. */
void ops_get_acl(s3_req_t *r)
{
    store_bucket_t b;
    if (lookup_bucket(r, &b) != 0)
        return;
    if (r->route.op == S3OP_GET_OBJECT_ACL) {
        store_object_t obj;
        int rc = store_object_get(r->thread->server->store, r->route.bucket, r->route.key, r->route.key_len, &obj);
        if (rc != 0) {
            s3_send_error(r, s3err_from_store(rc), NULL);
            return;
        }
        store_object_free(&obj);
    }
    xmlw_t w;
    xmlw_init(&w);
    xmlw_open(&w, "AccessControlPolicy " S3_XMLNS);
    s3_xml_owner(&w, "Owner", &r->user);
    xmlw_open(&w, "AccessControlList");
    xmlw_open(&w, "Grant");
    xmlw_open(&w, "Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"");
    xmlw_elem_str(&w, "ID", r->user.canonical_id);
    xmlw_elem_str(&w, "DisplayName", r->user.name);
    xmlw_close(&w, "Grantee");
    xmlw_elem_str(&w, "Permission", "FULL_CONTROL");
    xmlw_close(&w, "Grant");
    xmlw_close(&w, "AccessControlList");
    xmlw_close(&w, "AccessControlPolicy");
    s3_send_xml(r, 200, &w);
}
