/* server/authz.h -- who may do what: bucket ownership, ACLs, bucket policies, public access blocks.
 *
 * DESIGN: every S3 operation maps to one IAM action (s3:GetObject...) on one
 * resource (arn:aws:s3:::bucket or arn:aws:s3:::bucket/key), and is decided
 * the way S3 decides for one account:
 *
 *   1. root, the server's administrator, may see and change any bucket's
 *      policy (so it can never lock itself out);
 *   2. an explicit Deny in the bucket policy refuses, root included (as it
 *      refuses AWS's account root user);
 *   3. root may do anything else; the bucket policy operations are the
 *      bucket owner's alone;
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
 * Root's requests on a bucket without a policy are allowed from that cached
 * state alone, without evaluating anything.
 *
 * Decisions that need the object (reading it, its ACL or tags) are deferred:
 * authz_request() leaves r->authz_deferred set and the operation calls
 * authz_object() once it has looked the object up, before answering anything
 * that would tell an outsider whether the key exists. DeleteObjects names its
 * keys in the body: it is deferred too, and each key is decided on its own
 * with authz_key(), as DeleteObject of that key would be (a key the requester
 * may not delete is answered AccessDenied in the result; the others go).
 */
#ifndef COFFER_AUTHZ_H
#define COFFER_AUTHZ_H

#include "server/acl.h"
#include "server/handler.h"

/** The stored header holding an object's ACL (owner and grants, acl_encode); never sent to clients. */
#define AUTHZ_ACL_HEADER "x-coffer-acl"

/** Decides r before dispatch: S3ERR_NONE (allowed, or deferred to authz_object) or AccessDenied. */
s3err_t authz_request(s3_req_t *r);

/**
 * As authz_request, with the request's own values that the policy's condition keys see (s3:x-amz-acl,
 * aws:Referer...) read through get(ctx, name) instead of from r's headers: PostObject's form fields
 * stand for its headers. Only a decision made here sees them; one deferred to authz_object reads headers.
 */
s3err_t authz_request_with(s3_req_t *r, acl_header_fn get, void *ctx);

/** The deferred decision for r on obj (NULL: the object does not exist). S3ERR_NONE or AccessDenied. */
s3err_t authz_object(s3_req_t *r, const store_object_t *obj);

/**
 * Looks r's object up and makes the deferred decision on it (authz_object): 0 with *obj (free
 * with store_object_free), or -1 when the error (AccessDenied, NoSuchKey...) has been answered.
 */
int authz_get_object(s3_req_t *r, store_object_t *obj);

/** What the decisions on the keys of one request share (its condition keys, built once); pool memory. */
typedef struct authz_keys authz_keys_t;

/** Starts deciding the keys r's body names (DeleteObjects), one by one with authz_key. */
authz_keys_t *authz_keys_begin(s3_req_t *r);

/**
 * Decides r's operation on one key of its body: s3:DeleteObject on arn:aws:s3:::bucket/key, with
 * the bucket policy (conditions included) and the bucket's ACL, exactly as DeleteObject of that
 * key is decided. Call from the operation's job (it may read the bucket's access state). S3ERR_NONE
 * or AccessDenied.
 */
s3err_t authz_key(s3_req_t *r, authz_keys_t *k, const char *key, size_t key_len);

/** Decides s3:GetObject on a copy's source object (CopyObject, UploadPartCopy). S3ERR_NONE or AccessDenied. */
s3err_t authz_source(s3_req_t *r, const char *bucket, const char *key, size_t key_len, const store_object_t *obj);

/** What the bucket operations need to know of r's bucket's access state. */
typedef struct authz_bucket_info {
    int exists;
    char owner_id[ACL_ID_MAX + 1];
    char owner_name[ACL_NAME_MAX + 1];
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

/** As authz_new_object_acl, with x-amz-acl and x-amz-grant-* read through header(header_ctx, name): PostObject's form. */
s3err_t authz_new_object_acl_with(s3_req_t *r, acl_header_fn header, void *header_ctx, store_kv_t *out, int *has_acl,
                                  const char **message);

/** An acl_header_fn over a request's headers (ctx: the s3_req_t). */
const char *authz_header(void *ctx, const char *name, size_t *len);

/** The S3 error for an ACL parser's result. */
s3err_t authz_acl_error(acl_err_t err);

/** Whether r was signed with one of root's keys (the administrator). */
int authz_is_root(const s3_req_t *r);

/** Forgets every bucket's cached access state; call after changing any of it (and after a bucket is deleted). */
void authz_invalidate(void);

/**
 * The canonical id and display name of a bucket's owner as stored: an id (64 lower-case hex digits,
 * never read as a user's name), or the user name older versions stored. 0, or -ENOENT when no such
 * user exists (then id is the stored id, or "" for a name, and name is "").
 */
int authz_owner_id(s3_req_t *r, const char *stored_owner, char id[ACL_ID_MAX + 1], char name[ACL_NAME_MAX + 1]);

/** An owner as listings show it (Owner, Initiator): canonical id and display name ("" when the user is gone). */
typedef struct authz_owner {
    char id[ACL_ID_MAX + 1];
    char name[ACL_NAME_MAX + 1];
} authz_owner_t;

#define AUTHZ_OWNERS_CACHED 8

/**
 * The owners one listing shows (zero it before use; nothing to free). Entries name their owner
 * by canonical id, or name none (then it is the bucket owner); display names come from the
 * server's users (memory, no store read), looked up once per id: the last AUTHZ_OWNERS_CACHED
 * ids are kept, as a bucket's objects mostly share a few owners.
 */
typedef struct authz_owners {
    int ready; /* bucket_owner is known */
    authz_owner_t bucket_owner;
    authz_owner_t recent[AUTHZ_OWNERS_CACHED];
    size_t num_recent, next;
} authz_owners_t;

/**
 * The owner an object's or upload's stored ACL (the AUTHZ_ACL_HEADER value) names; acl NULL (the
 * record has none) or unreadable: the bucket owner, as authz_object_acl has it. Borrowed from o,
 * valid until the next call on o.
 */
const authz_owner_t *authz_owner_of_acl(s3_req_t *r, authz_owners_t *o, const char *acl, size_t acl_len);

/** The user of canonical id id (id_len bytes); id NULL (none recorded): the bucket owner. Borrowed as above. */
const authz_owner_t *authz_owner_by_id(s3_req_t *r, authz_owners_t *o, const char *id, size_t id_len);

/** Resolves a grantee for the ACL parsers (acl_resolve_fn) against the server's users; ctx is the server's keys_t. */
int authz_resolve_grantee(void *ctx, char kind, const char *value, size_t value_len, char id[ACL_ID_MAX + 1],
                          char name[ACL_NAME_MAX + 1]);

/** The object's ACL from its stored headers: 0, or -ENOENT when it has none (then its owner is the bucket owner). */
int authz_object_acl(const store_object_t *obj, acl_t *out);

#endif
