/* auth/policy.h -- bucket policies (PutBucketPolicy documents) as AWS S3 evaluates them, as pure functions.
 *
 * DESIGN: a policy is parsed and validated once, when it is stored or loaded,
 * into a compact read-only structure; evaluating it against a request is then
 * a walk over that structure with no allocation and no shared mutable state,
 * so one policy_t may serve every thread at once. Nothing here knows about
 * HTTP, storage or users beyond what the caller puts in policy_request_t: the
 * request path decides the action name, the resource ARN and the condition
 * context (aws:SourceIp, aws:SecureTransport, s3:prefix, ...), then combines
 * the decision with ownership and ACLs (a Deny always wins; NONE falls back).
 */
#ifndef COFFER_POLICY_H
#define COFFER_POLICY_H

#include <stddef.h>

/** AWS's limit on a bucket policy, counted without the whitespace between JSON tokens. */
#define POLICY_MAX_SIZE 20480

typedef struct policy policy_t;

/**
 * Parses and validates a bucket policy for bucket `bucket`. Returns 0 with *out (free it with
 * policy_free), or -EINVAL with a one-line reason in err (answered to the client as MalformedPolicy;
 * AWS's wording where it is known). err may be NULL when err_len is 0.
 */
int policy_parse(const char *json, size_t len, const char *bucket, policy_t **out, char *err, size_t err_len);

/** Frees a parsed policy; NULL is fine. */
void policy_free(policy_t *p);

/** NONE: no statement applies (implicit deny unless an ACL or ownership allows). */
typedef enum { POLICY_NONE = 0, POLICY_ALLOW, POLICY_DENY } policy_decision_t;

/** One condition-context entry; key as AWS spells it, compared case-insensitively. Borrowed. */
typedef struct policy_kv {
    const char *key;
    const char *value;
} policy_kv_t;

/** The request as the policy sees it; every pointer is borrowed for the duration of policy_evaluate. */
typedef struct policy_request {
    const char *action;   /* "s3:GetObject" */
    const char *resource; /* "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key" (key raw bytes) */
    size_t resource_len;
    int anonymous;            /* no credentials */
    const char *user_name;    /* when not anonymous: the user's name ("root" for the admin) */
    const char *canonical_id; /* when not anonymous: 64-hex canonical user id */
    const policy_kv_t *ctx;   /* e.g. aws:SourceIp, aws:SecureTransport, aws:Referer, aws:username, aws:userid, s3:prefix,
                                 s3:delimiter, s3:max-keys, s3:x-amz-acl, s3:ExistingObjectTag/<k> ... absent keys are simply
                                 not in the list; aws:username and aws:userid default to user_name and canonical_id */
    size_t num_ctx;
} policy_request_t;

/**
 * Evaluates a policy for one request: any applicable Deny gives POLICY_DENY, else any applicable
 * Allow gives POLICY_ALLOW, else POLICY_NONE. Thread-safe on a shared policy; allocates nothing.
 */
policy_decision_t policy_evaluate(const policy_t *p, const policy_request_t *req);

/**
 * Whether the policy makes the bucket public in the sense of GetBucketPolicyStatus/PublicAccessBlock:
 * some Allow statement grants to "*" (or {"AWS":"*"}, or through NotPrincipal) without a condition that
 * pins it to fixed values (aws:SourceIp with a non-/0 range, aws:SourceArn, aws:SourceAccount,
 * aws:SourceVpc(e), aws:userid, aws:PrincipalOrgID... with a value that holds no wildcard or variable).
 */
int policy_is_public(const policy_t *p);

#endif
