/* server/ops_bucket.c -- bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 * GetBucketLocation, GetBucketVersioning.
 *
 * DESIGN: each operation validates on the loop and runs its storage calls in
 * an s3_job on a worker (bucket create/delete are synced writes). Buckets are
 * owned by the creating user's canonical id, which stays stable when keys
 * rotate and is never given to another user (buckets made by older versions
 * name their owner by user name; server/authz.c resolves both). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/authz.h"
#include "server/handler.h"

void s3_xml_owner_id(xmlw_t *w, const char *tag, const char *id, const char *name)
{
    xmlw_open(w, tag);
    xmlw_elem_str(w, "ID", id);
    xmlw_elem_str(w, "DisplayName", name);
    xmlw_close(w, tag);
}

void s3_xml_owner(xmlw_t *w, const char *tag, const keys_user_t *u)
{
    s3_xml_owner_id(w, tag, u->canonical_id, u->name);
}

typedef struct list_buckets_ctx {
    xmlw_t *w;
    s3_req_t *r;
} list_buckets_ctx_t;

static int on_bucket(void *ctx, const store_bucket_t *b)
{
    list_buckets_ctx_t *c = ctx;
    char id[ACL_ID_MAX + 1], name[ACL_NAME_MAX + 1];
    authz_owner_id(c->r, b->owner, id, name);
    if (strcmp(id, c->r->user.canonical_id) != 0)
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
    list_buckets_ctx_t ctx = {&j->xml, r};
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
    uint8_t acl[ACL_ENCODED_MAX]; /* the bucket's ACL when headers asked for one */
    size_t acl_len;
    const char *ownership; /* x-amz-object-ownership, or NULL */
} create_bucket_state_t;

/* x-amz-acl, x-amz-grant-* and x-amz-object-ownership of a CreateBucket. Returns S3ERR_NONE or the error. */
static s3err_t create_bucket_access(s3_req_t *r, create_bucket_state_t *st, const char **message)
{
    static const char *const ownerships[] = {"BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"};
    size_t len;
    const char *v = s3_header(r, "x-amz-object-ownership", &len);
    *message = NULL;
    for (size_t i = 0; v != NULL && st->ownership == NULL && i < sizeof(ownerships) / sizeof(ownerships[0]); i++)
        if (h2o_memis(v, len, ownerships[i], strlen(ownerships[i])))
            st->ownership = ownerships[i];
    if (v != NULL && st->ownership == NULL) {
        *message = "Invalid x-amz-object-ownership header";
        return S3ERR_INVALID_ARGUMENT;
    }
    acl_t *acl = h2o_mem_alloc_pool(&r->req->pool, sizeof(*acl));
    int none = 0;
    acl_err_t e = acl_from_headers(authz_header, r, authz_resolve_grantee, r->thread->server->keys, r->user.canonical_id,
                                   r->user.name, r->user.canonical_id, r->user.name, acl, &none, message);
    if (e != ACL_OK)
        return authz_acl_error(e);
    if (none)
        return S3ERR_NONE;
    if (st->ownership != NULL && strcmp(st->ownership, "BucketOwnerEnforced") == 0 && (acl->num_grants > 1 || acl_is_public(acl))) {
        *message = NULL;
        return S3ERR_INVALID_BUCKET_ACL_WITH_OWNERSHIP;
    }
    st->acl_len = acl_encode(acl, st->acl, sizeof(st->acl));
    return S3ERR_NONE;
}

static void run_create_bucket(s3_job_t *j)
{
    s3_req_t *r = j->r;
    create_bucket_state_t *st = (create_bucket_state_t *)j->extra;
    store_t *store = r->thread->server->store;
    int rc = store_bucket_create(store, r->route.bucket, r->user.canonical_id, st->region);
    if (rc == -EEXIST) {
        store_bucket_t b;
        char id[ACL_ID_MAX + 1], name[ACL_NAME_MAX + 1];
        if (store_bucket_get(store, r->route.bucket, &b) == 0 && (authz_owner_id(r, b.owner, id, name), 1) &&
            strcmp(id, r->user.canonical_id) == 0)
            j->err = S3ERR_BUCKET_ALREADY_OWNED_BY_YOU;
        else
            j->err = S3ERR_BUCKET_ALREADY_EXISTS;
        return;
    }
    /* Separate synced writes: a crash between them leaves the bucket private, its safe default. */
    if (rc == 0 && st->acl_len > 0)
        rc = store_bucket_conf_put(store, r->route.bucket, "acl", st->acl, st->acl_len);
    if (rc == 0 && st->ownership != NULL)
        rc = store_bucket_conf_put(store, r->route.bucket, "ownership-controls", st->ownership, strlen(st->ownership));
    authz_invalidate(); /* a bucket of this name may have been cached as missing */
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
    const char *message;
    s3err_t err = create_bucket_access(r, st, &message);
    if (err != S3ERR_NONE) {
        s3_job_refuse(j, err, message);
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
    else
        authz_invalidate(); /* its owner, ACL and policy went with it */
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
