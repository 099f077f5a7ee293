/* server/ops_acl.c -- GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl.
 *
 * DESIGN: a bucket's ACL is its "acl" configuration document, an object's the
 * AUTHZ_ACL_HEADER among its stored headers (both acl_encode'd). A bucket or
 * object without one is private to its owner. A put takes the ACL from the
 * body (AccessControlPolicy), x-amz-acl, or x-amz-grant-* (one of them), keeps
 * the owner (an owner cannot be given away), and refuses what the bucket's
 * public access block or BucketOwnerEnforced forbids. Who may read or change
 * an ACL was decided before (server/authz.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/acl.h"
#include "server/authz.h"
#include "server/handler.h"

static void send_acl(s3_req_t *r, const acl_t *acl)
{
    xmlw_t w;
    xmlw_init(&w);
    acl_write_xml(&w, acl);
    s3_send_xml(r, 200, &w);
}

/* The bucket's ACL (private for its owner when it has none). Returns 0, or -1 when the error was sent. */
static int bucket_acl(s3_req_t *r, const authz_bucket_info_t *b, acl_t *out)
{
    void *val;
    size_t len;
    int rc = store_bucket_conf_get(r->thread->server->store, r->route.bucket, "acl", &val, &len);
    if (rc == 0) {
        rc = acl_decode(val, len, out) == 0 ? 0 : STORE_E_CORRUPT;
        free(val);
    } else if (rc == -ENOENT) {
        rc = acl_canned(H2O_STRLIT("private"), b->owner_id, b->owner_name, b->owner_id, b->owner_name, out);
    }
    if (rc != 0) {
        s3_send_error(r, s3err_from_store(rc), NULL);
        return -1;
    }
    return 0;
}

/* The ACL a put asks for, owned by owner. Returns S3ERR_NONE or the error (*message may be set). */
static s3err_t requested_acl(s3_req_t *r, const authz_bucket_info_t *b, const char *owner_id, const char *owner_name, acl_t *out,
                             const char **message)
{
    int none = 0;
    acl_err_t e = acl_from_headers(authz_header, r, authz_resolve_grantee, r->thread->server->keys, owner_id, owner_name,
                                   b->owner_id, b->owner_name, out, &none, message);
    if (e != ACL_OK)
        return authz_acl_error(e);
    h2o_iovec_t body = r->req->entity;
    if (!none && body.len > 0) {
        *message = "Specifying both Canned ACLs and Header Grants or an access control policy is not allowed";
        return S3ERR_INVALID_REQUEST;
    }
    if (none) {
        if (body.len == 0) {
            *message = NULL;
            return S3ERR_MISSING_SECURITY_HEADER;
        }
        if (body.len > ACL_DOC_MAX)
            return S3ERR_MALFORMED_ACL;
        e = acl_parse_xml(body.base, body.len, owner_id, authz_resolve_grantee, r->thread->server->keys, out, message);
        if (e != ACL_OK)
            return authz_acl_error(e);
    }
    if (b->acls_disabled) {
        acl_t only_owner;
        acl_canned(H2O_STRLIT("bucket-owner-full-control"), owner_id, owner_name, b->owner_id, b->owner_name, &only_owner);
        if (out->num_grants > only_owner.num_grants || acl_is_public(out)) {
            *message = "This bucket does not allow ACLs";
            return S3ERR_ACL_NOT_SUPPORTED;
        }
    }
    if (b->block_public_acls && acl_is_public(out)) {
        *message = NULL;
        return S3ERR_ACCESS_DENIED;
    }
    return S3ERR_NONE;
}

typedef struct put_acl_state {
    uint8_t enc[ACL_ENCODED_MAX];
    size_t enc_len;
    store_kv_t *headers; /* owned: the object's headers with the ACL replaced */
} put_acl_state_t;

static void run_put_bucket_acl(s3_job_t *j)
{
    put_acl_state_t *st = (put_acl_state_t *)j->extra;
    int rc = store_bucket_conf_put(j->r->thread->server->store, j->r->route.bucket, "acl", st->enc, st->enc_len);
    if (rc != 0)
        j->err = s3err_from_store(rc);
    else
        authz_invalidate();
}

/* store_update_fn: the object's headers with its ACL replaced. */
static int replace_acl(void *ctx, const store_object_t *cur, const store_kv_t **headers, size_t *num_headers)
{
    put_acl_state_t *st = ctx;
    size_t n = 0;
    free(st->headers);
    if ((st->headers = malloc((cur->num_headers + 1) * sizeof(*st->headers))) == NULL)
        abort();
    for (size_t i = 0; i < cur->num_headers; i++)
        if (!h2o_memis(cur->headers[i].name, cur->headers[i].name_len, H2O_STRLIT(AUTHZ_ACL_HEADER)))
            st->headers[n++] = cur->headers[i];
    st->headers[n++] = (store_kv_t){H2O_STRLIT(AUTHZ_ACL_HEADER), (const char *)st->enc, st->enc_len};
    *headers = st->headers;
    *num_headers = n;
    return 0;
}

static void run_put_object_acl(s3_job_t *j)
{
    s3_req_t *r = j->r;
    put_acl_state_t *st = (put_acl_state_t *)j->extra;
    int rc = store_object_update(r->thread->server->store, r->route.bucket, r->route.key, r->route.key_len, replace_acl, st);
    free(st->headers);
    if (rc != 0)
        j->err = s3err_from_store(rc);
}

void ops_acl(s3_req_t *r)
{
    authz_bucket_info_t b;
    acl_t *acl = h2o_mem_alloc_pool(&r->req->pool, sizeof(*acl));
    int object = r->route.op == S3OP_GET_OBJECT_ACL || r->route.op == S3OP_PUT_OBJECT_ACL;
    authz_bucket_info(r, &b);
    if (!b.exists) {
        s3_send_error(r, S3ERR_NO_SUCH_BUCKET, NULL);
        return;
    }
    if (object) {
        store_object_t obj;
        if (authz_get_object(r, &obj) != 0)
            return;
        if (authz_object_acl(&obj, acl) != 0) /* written before ACLs were kept: the bucket owner's, private */
            acl_canned(H2O_STRLIT("private"), b.owner_id, b.owner_name, b.owner_id, b.owner_name, acl);
        store_object_free(&obj);
    } else if (bucket_acl(r, &b, acl) != 0) {
        return;
    }
    if (r->route.op == S3OP_GET_BUCKET_ACL || r->route.op == S3OP_GET_OBJECT_ACL) {
        send_acl(r, acl);
        return;
    }
    const char *message = NULL;
    char owner_id[ACL_ID_MAX + 1], owner_name[ACL_NAME_MAX + 1];
    memcpy(owner_id, acl->owner_id, sizeof(owner_id));
    memcpy(owner_name, acl->owner_name, sizeof(owner_name));
    s3err_t err = requested_acl(r, &b, owner_id, owner_name, acl, &message);
    if (err != S3ERR_NONE) {
        s3_send_error(r, err, message);
        return;
    }
    s3_job_t *j = s3_job_new(r, object ? run_put_object_acl : run_put_bucket_acl, sizeof(put_acl_state_t));
    put_acl_state_t *st = (put_acl_state_t *)j->extra;
    st->enc_len = acl_encode(acl, st->enc, sizeof(st->enc));
    s3_job_start(j);
}
