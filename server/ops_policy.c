/* server/ops_policy.c -- GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus.
 *
 * DESIGN: the policy is the bucket's "policy" configuration document, kept as
 * the client sent it (GetBucketPolicy answers it verbatim) after auth/policy.c
 * has parsed and validated it for this bucket. Only the bucket owner (and
 * root) reach these operations (server/authz.c). Every change empties the
 * authorization cache, so the next request is judged by the new policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/policy.h"
#include "server/authz.h"
#include "server/handler.h"
#include "server/payload.h"

static void run_update_policy(s3_job_t *j)
{
    s3_req_t *r = j->r;
    store_t *store = r->thread->server->store;
    int rc = r->route.op == S3OP_PUT_BUCKET_POLICY
                 ? store_bucket_conf_put(store, r->route.bucket, "policy", r->req->entity.base, r->req->entity.len)
                 : store_bucket_conf_delete(store, r->route.bucket, "policy");
    if (rc != 0)
        j->err = s3err_from_store(rc);
    else
        authz_invalidate();
    j->status = 204;
}

static void get_policy(s3_req_t *r, const authz_bucket_info_t *b)
{
    if (r->route.op == S3OP_GET_BUCKET_POLICY_STATUS) { /* judged once, when authz parsed the policy */
        if (!b->has_policy) {
            s3_send_error(r, S3ERR_NO_SUCH_BUCKET_POLICY, NULL);
            return;
        }
        xmlw_t w;
        xmlw_init(&w);
        xmlw_open(&w, "PolicyStatus " S3_XMLNS);
        xmlw_elem_str(&w, "IsPublic", b->policy_public ? "true" : "false");
        xmlw_close(&w, "PolicyStatus");
        s3_send_xml(r, 200, &w);
        return;
    }
    void *val;
    size_t len;
    int rc = store_bucket_conf_get(r->thread->server->store, r->route.bucket, "policy", &val, &len);
    if (rc != 0) {
        s3_send_error(r, rc == -ENOENT ? S3ERR_NO_SUCH_BUCKET_POLICY : s3err_from_store(rc), NULL);
        return;
    }
    s3_add_header(r, "content-type", H2O_STRLIT("application/json"));
    s3_send_body(r, 200, val, len);
    free(val);
}

void ops_bucket_policy(s3_req_t *r)
{
    authz_bucket_info_t b;
    authz_bucket_info(r, &b);
    if (!b.exists) {
        s3_send_error(r, S3ERR_NO_SUCH_BUCKET, NULL);
        return;
    }
    if (r->route.op == S3OP_GET_BUCKET_POLICY || r->route.op == S3OP_GET_BUCKET_POLICY_STATUS) {
        get_policy(r, &b);
        return;
    }
    if (r->route.op == S3OP_PUT_BUCKET_POLICY) {
        const char *message;
        char err[256];
        policy_t *p = NULL;
        s3err_t e = s3_check_document_body(r, 1024 * 1024, 1, &message);
        if (e != S3ERR_NONE) {
            s3_send_error(r, e, message);
            return;
        }
        if (policy_parse(r->req->entity.base, r->req->entity.len, r->route.bucket, &p, err, sizeof(err)) != 0) {
            s3_send_error(r, S3ERR_MALFORMED_POLICY, h2o_strdup(&r->req->pool, err, SIZE_MAX).base);
            return;
        }
        int is_public = policy_is_public(p);
        policy_free(p);
        if (is_public && b.block_public_policy) {
            s3_send_error(r, S3ERR_ACCESS_DENIED, NULL);
            return;
        }
    }
    s3_job_start(s3_job_new(r, run_update_policy, 0));
}
