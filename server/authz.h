/* server/authz.h -- who may do what: bucket ownership, ACLs, bucket policies, public access blocks.
 *
 * DESIGN: every S3 operation maps to one IAM action (s3:GetObject...) on one
 * resource (arn:aws:s3:::bucket or arn:aws:s3:::bucket/key), and is decided
 * the way S3 decides for one account:
 *
 *   1. root, the server's administrator, may do anything;
 *   2. an explicit Deny in the bucket policy refuses;
 *   3. the bucket policy operations are the bucket owner's alone;
 *   4. the bucket owner may do anything in the bucket, and an object's owner
 *      anything to that object;
 *   5. an Allow in the bucket policy permits (for anonymous requesters only if
 *      the policy is not public or RestrictPublicBuckets is off);
 *   6. unless the bucket enforces BucketOwnerEnforced (ACLs off), the ACL
 *      permits: the bucket's for bucket actions and for writing objects, the
 *      object's for reading an object or its ACL (IgnorePublicAcls drops grants
 *      to AllUsers and AuthenticatedUsers);
 *   7. anything else is AccessDenied.
 *
 * What a bucket's access depends on (owner, ACL, policy, public access block,
 * ownership controls) is read from the store once and kept in a small cache
 * shared by the event loops; every change to any of it calls
 * authz_invalidate(), which empties the cache, so the next request sees it.
 *
 * Decisions that need the object (reading it, its ACL or tags) are deferred:
 * authz_request() leaves r->authz_deferred set and the operation calls
 * authz_object() once it has looked the object up, before answering anything
 * that would tell an outsider whether the key exists.
 */
#ifndef COFFER_AUTHZ_H
#define COFFER_AUTHZ_H

#include "server/acl.h"
#include "server/handler.h"

/** The stored header holding an object's ACL (owner and grants, acl_encode); never sent to clients. */
#define AUTHZ_ACL_HEADER "x-coffer-acl"

/** Decides r before dispatch: S3ERR_NONE (allowed, or deferred to authz_object) or AccessDenied. */
s3err_t authz_request(s3_req_t *r);

/** The deferred decision for r on obj (NULL: the object does not exist). S3ERR_NONE or AccessDenied. */
s3err_t authz_object(s3_req_t *r, const store_object_t *obj);

/**
 * Looks r's object up and makes the deferred decision on it (authz_object): 0 with *obj (free
 * with store_object_free), or -1 when the error (AccessDenied, NoSuchKey...) has been answered.
 */
int authz_get_object(s3_req_t *r, store_object_t *obj);

/** Decides s3:GetObject on a copy's source object (CopyObject, UploadPartCopy). S3ERR_NONE or AccessDenied. */
s3err_t authz_source(s3_req_t *r, const char *bucket, const char *key, size_t key_len, const store_object_t *obj);

/** What the bucket operations need to know of r's bucket's access state. */
typedef struct authz_bucket_info {
    int exists;
    char owner_id[65];
    char owner_name[64];
    int block_public_acls, block_public_policy;
    int acls_disabled;   /* BucketOwnerEnforced */
    int owner_preferred; /* BucketOwnerPreferred */
    int has_policy;      /* a bucket policy that parses */
    int policy_public;   /* ... and is public (policy_is_public) */
} authz_bucket_info_t;
void authz_bucket_info(s3_req_t *r, authz_bucket_info_t *out);

/**
 * The ACL of an object r writes (PutObject, CopyObject, CreateMultipartUpload), from x-amz-acl
 * or x-amz-grant-* (private by default), owned by the writer or, when ownership controls say so,
 * by the bucket owner; as a stored header in pool memory (*has_acl = 1), or nothing (*has_acl =
 * 0) when it is the default an object without one has: the bucket owner's, private. S3ERR_NONE,
 * or the error with *message.
 */
s3err_t authz_new_object_acl(s3_req_t *r, store_kv_t *out, int *has_acl, const char **message);

/** An acl_header_fn over a request's headers (ctx: the s3_req_t). */
const char *authz_header(void *ctx, const char *name, size_t *len);

/** The S3 error for an ACL parser's result. */
s3err_t authz_acl_error(acl_err_t err);

/** Forgets every bucket's cached access state; call after changing any of it (and after a bucket is deleted). */
void authz_invalidate(void);

/** The canonical id of a bucket's owner as stored (an id, or the user name older versions stored). 0 or -ENOENT. */
int authz_owner_id(s3_req_t *r, const char *stored_owner, char id[65], char name[64]);

/** Resolves a grantee for the ACL parsers (acl_resolve_fn) against the server's users; ctx is the server's keys_t. */
int authz_resolve_grantee(void *ctx, char kind, const char *value, size_t value_len, char id[65], char name[64]);

/** The object's ACL from its stored headers: 0, or -ENOENT when it has none (then its owner is the bucket owner). */
int authz_object_acl(const store_object_t *obj, acl_t *out);

#endif
