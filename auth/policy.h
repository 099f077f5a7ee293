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

/**
 * The S3 actions a bucket policy may name: every action the server authorizes its operations as
 * (server/authz.c maps each operation to one of these), and AWS's other bucket and object actions,
 * which policies written for AWS name (s3:GetObjectVersion...) though no request here is ever
 * authorized as them. X(ID, name) for each, in name order.
 */
#define POLICY_S3_ACTIONS(X)                                                                                                       \
    X(ABORT_MULTIPART_UPLOAD, "s3:AbortMultipartUpload")                                                                           \
    X(BYPASS_GOVERNANCE_RETENTION, "s3:BypassGovernanceRetention")                                                                 \
    X(CREATE_BUCKET, "s3:CreateBucket")                                                                                            \
    X(CREATE_BUCKET_METADATA_TABLE_CONFIGURATION, "s3:CreateBucketMetadataTableConfiguration")                                     \
    X(DELETE_BUCKET, "s3:DeleteBucket")                                                                                            \
    X(DELETE_BUCKET_METADATA_TABLE_CONFIGURATION, "s3:DeleteBucketMetadataTableConfiguration")                                     \
    X(DELETE_BUCKET_POLICY, "s3:DeleteBucketPolicy")                                                                               \
    X(DELETE_BUCKET_WEBSITE, "s3:DeleteBucketWebsite")                                                                             \
    X(DELETE_OBJECT, "s3:DeleteObject")                                                                                            \
    X(DELETE_OBJECT_TAGGING, "s3:DeleteObjectTagging")                                                                             \
    X(DELETE_OBJECT_VERSION, "s3:DeleteObjectVersion")                                                                             \
    X(DELETE_OBJECT_VERSION_TAGGING, "s3:DeleteObjectVersionTagging")                                                              \
    X(GET_ACCELERATE_CONFIGURATION, "s3:GetAccelerateConfiguration")                                                               \
    X(GET_ANALYTICS_CONFIGURATION, "s3:GetAnalyticsConfiguration")                                                                 \
    X(GET_BUCKET_ACL, "s3:GetBucketAcl")                                                                                           \
    X(GET_BUCKET_CORS, "s3:GetBucketCORS")                                                                                         \
    X(GET_BUCKET_LOCATION, "s3:GetBucketLocation")                                                                                 \
    X(GET_BUCKET_LOGGING, "s3:GetBucketLogging")                                                                                   \
    X(GET_BUCKET_METADATA_TABLE_CONFIGURATION, "s3:GetBucketMetadataTableConfiguration")                                           \
    X(GET_BUCKET_NOTIFICATION, "s3:GetBucketNotification")                                                                         \
    X(GET_BUCKET_OBJECT_LOCK_CONFIGURATION, "s3:GetBucketObjectLockConfiguration")                                                 \
    X(GET_BUCKET_OWNERSHIP_CONTROLS, "s3:GetBucketOwnershipControls")                                                              \
    X(GET_BUCKET_POLICY, "s3:GetBucketPolicy")                                                                                     \
    X(GET_BUCKET_POLICY_STATUS, "s3:GetBucketPolicyStatus")                                                                        \
    X(GET_BUCKET_PUBLIC_ACCESS_BLOCK, "s3:GetBucketPublicAccessBlock")                                                             \
    X(GET_BUCKET_REQUEST_PAYMENT, "s3:GetBucketRequestPayment")                                                                    \
    X(GET_BUCKET_TAGGING, "s3:GetBucketTagging")                                                                                   \
    X(GET_BUCKET_VERSIONING, "s3:GetBucketVersioning")                                                                             \
    X(GET_BUCKET_WEBSITE, "s3:GetBucketWebsite")                                                                                   \
    X(GET_ENCRYPTION_CONFIGURATION, "s3:GetEncryptionConfiguration")                                                               \
    X(GET_INTELLIGENT_TIERING_CONFIGURATION, "s3:GetIntelligentTieringConfiguration")                                              \
    X(GET_INVENTORY_CONFIGURATION, "s3:GetInventoryConfiguration")                                                                 \
    X(GET_LIFECYCLE_CONFIGURATION, "s3:GetLifecycleConfiguration")                                                                 \
    X(GET_METRICS_CONFIGURATION, "s3:GetMetricsConfiguration")                                                                     \
    X(GET_OBJECT, "s3:GetObject")                                                                                                  \
    X(GET_OBJECT_ACL, "s3:GetObjectAcl")                                                                                           \
    X(GET_OBJECT_ATTRIBUTES, "s3:GetObjectAttributes")                                                                             \
    X(GET_OBJECT_LEGAL_HOLD, "s3:GetObjectLegalHold")                                                                              \
    X(GET_OBJECT_RETENTION, "s3:GetObjectRetention")                                                                               \
    X(GET_OBJECT_TAGGING, "s3:GetObjectTagging")                                                                                   \
    X(GET_OBJECT_TORRENT, "s3:GetObjectTorrent")                                                                                   \
    X(GET_OBJECT_VERSION, "s3:GetObjectVersion")                                                                                   \
    X(GET_OBJECT_VERSION_ACL, "s3:GetObjectVersionAcl")                                                                            \
    X(GET_OBJECT_VERSION_ATTRIBUTES, "s3:GetObjectVersionAttributes")                                                              \
    X(GET_OBJECT_VERSION_FOR_REPLICATION, "s3:GetObjectVersionForReplication")                                                     \
    X(GET_OBJECT_VERSION_TAGGING, "s3:GetObjectVersionTagging")                                                                    \
    X(GET_OBJECT_VERSION_TORRENT, "s3:GetObjectVersionTorrent")                                                                    \
    X(GET_REPLICATION_CONFIGURATION, "s3:GetReplicationConfiguration")                                                             \
    X(INITIATE_REPLICATION, "s3:InitiateReplication")                                                                              \
    X(LIST_ALL_MY_BUCKETS, "s3:ListAllMyBuckets")                                                                                  \
    X(LIST_BUCKET, "s3:ListBucket")                                                                                                \
    X(LIST_BUCKET_MULTIPART_UPLOADS, "s3:ListBucketMultipartUploads")                                                              \
    X(LIST_BUCKET_VERSIONS, "s3:ListBucketVersions")                                                                               \
    X(LIST_MULTIPART_UPLOAD_PARTS, "s3:ListMultipartUploadParts")                                                                  \
    X(OBJECT_OWNER_OVERRIDE_TO_BUCKET_OWNER, "s3:ObjectOwnerOverrideToBucketOwner")                                                \
    X(PUT_ACCELERATE_CONFIGURATION, "s3:PutAccelerateConfiguration")                                                               \
    X(PUT_ANALYTICS_CONFIGURATION, "s3:PutAnalyticsConfiguration")                                                                 \
    X(PUT_BUCKET_ACL, "s3:PutBucketAcl")                                                                                           \
    X(PUT_BUCKET_CORS, "s3:PutBucketCORS")                                                                                         \
    X(PUT_BUCKET_LOGGING, "s3:PutBucketLogging")                                                                                   \
    X(PUT_BUCKET_NOTIFICATION, "s3:PutBucketNotification")                                                                         \
    X(PUT_BUCKET_OBJECT_LOCK_CONFIGURATION, "s3:PutBucketObjectLockConfiguration")                                                 \
    X(PUT_BUCKET_OWNERSHIP_CONTROLS, "s3:PutBucketOwnershipControls")                                                              \
    X(PUT_BUCKET_POLICY, "s3:PutBucketPolicy")                                                                                     \
    X(PUT_BUCKET_PUBLIC_ACCESS_BLOCK, "s3:PutBucketPublicAccessBlock")                                                             \
    X(PUT_BUCKET_REQUEST_PAYMENT, "s3:PutBucketRequestPayment")                                                                    \
    X(PUT_BUCKET_TAGGING, "s3:PutBucketTagging")                                                                                   \
    X(PUT_BUCKET_VERSIONING, "s3:PutBucketVersioning")                                                                             \
    X(PUT_BUCKET_WEBSITE, "s3:PutBucketWebsite")                                                                                   \
    X(PUT_ENCRYPTION_CONFIGURATION, "s3:PutEncryptionConfiguration")                                                               \
    X(PUT_INTELLIGENT_TIERING_CONFIGURATION, "s3:PutIntelligentTieringConfiguration")                                              \
    X(PUT_INVENTORY_CONFIGURATION, "s3:PutInventoryConfiguration")                                                                 \
    X(PUT_LIFECYCLE_CONFIGURATION, "s3:PutLifecycleConfiguration")                                                                 \
    X(PUT_METRICS_CONFIGURATION, "s3:PutMetricsConfiguration")                                                                     \
    X(PUT_OBJECT, "s3:PutObject")                                                                                                  \
    X(PUT_OBJECT_ACL, "s3:PutObjectAcl")                                                                                           \
    X(PUT_OBJECT_LEGAL_HOLD, "s3:PutObjectLegalHold")                                                                              \
    X(PUT_OBJECT_RETENTION, "s3:PutObjectRetention")                                                                               \
    X(PUT_OBJECT_TAGGING, "s3:PutObjectTagging")                                                                                   \
    X(PUT_OBJECT_VERSION_ACL, "s3:PutObjectVersionAcl")                                                                            \
    X(PUT_OBJECT_VERSION_TAGGING, "s3:PutObjectVersionTagging")                                                                    \
    X(PUT_REPLICATION_CONFIGURATION, "s3:PutReplicationConfiguration")                                                             \
    X(REPLICATE_DELETE, "s3:ReplicateDelete")                                                                                      \
    X(REPLICATE_OBJECT, "s3:ReplicateObject")                                                                                      \
    X(REPLICATE_TAGS, "s3:ReplicateTags")                                                                                          \
    X(RESTORE_OBJECT, "s3:RestoreObject")

#define POLICY_ACTION_ENUM(id, name) POLICY_ACTION_##id,
/** POLICY_ACTION_<ID> for each of POLICY_S3_ACTIONS; POLICY_ACTION_NONE (0) is no action. */
typedef enum policy_action {
    POLICY_ACTION_NONE = 0,
    POLICY_S3_ACTIONS(POLICY_ACTION_ENUM) /* POLICY_ACTION_ABORT_MULTIPART_UPLOAD ... POLICY_ACTION_RESTORE_OBJECT */
    POLICY_ACTION_COUNT
} policy_action_t;
#undef POLICY_ACTION_ENUM

/** An action's name ("s3:GetObject"), or NULL for POLICY_ACTION_NONE and anything out of range. */
const char *policy_action_name(policy_action_t action);

typedef struct policy policy_t;

/**
 * Parses and validates a bucket policy for bucket `bucket`. Returns 0 with *out (free it with
 * policy_free), or -EINVAL with a one-line reason in err (answered to the client as MalformedPolicy;
 * AWS's wording where it is known). err may be NULL when err_len is 0. Every Action and NotAction
 * must be "*", or "s3:" and a name or wildcard pattern matching at least one of POLICY_S3_ACTIONS
 * (ASCII case ignored): anything else is "Policy has invalid action".
 */
int policy_parse(const char *json, size_t len, const char *bucket, policy_t **out, char *err, size_t err_len);

/**
 * As policy_parse, for a policy that PutBucketPolicy stored earlier: an s3: action is not checked
 * against POLICY_S3_ACTIONS (it then matches nothing a request is authorized as), so a policy an
 * older server accepted keeps every statement, its Denies above all.
 */
int policy_parse_stored(const char *json, size_t len, const char *bucket, policy_t **out, char *err, size_t err_len);

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
