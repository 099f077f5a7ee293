/* server/router.h -- turns method + raw path + query + Host into an S3 operation (pure; no sockets). */
#ifndef COFFER_ROUTER_H
#define COFFER_ROUTER_H

#include <stddef.h>

#include "server/s3err.h"

typedef enum s3_op {
    S3OP_INVALID = 0,
    S3OP_LIST_BUCKETS,
    S3OP_CREATE_BUCKET,
    S3OP_HEAD_BUCKET,
    S3OP_DELETE_BUCKET,
    S3OP_GET_BUCKET_LOCATION,
    S3OP_GET_BUCKET_VERSIONING,
    S3OP_GET_BUCKET_ACL,
    S3OP_LIST_OBJECTS,
    S3OP_LIST_OBJECTS_V2,
    S3OP_PUT_OBJECT,
    S3OP_GET_OBJECT,
    S3OP_HEAD_OBJECT,
    S3OP_DELETE_OBJECT,
    S3OP_GET_OBJECT_ACL,
    S3OP_CREATE_MULTIPART_UPLOAD,
    S3OP_UPLOAD_PART,
    S3OP_UPLOAD_PART_COPY, /* a PUT of a part with x-amz-copy-source */
    S3OP_COMPLETE_MULTIPART_UPLOAD,
    S3OP_ABORT_MULTIPART_UPLOAD,
    S3OP_LIST_PARTS,
    S3OP_LIST_MULTIPART_UPLOADS,
    S3OP_POST_OBJECT, /* browser-form upload: POST on a bucket, authenticated by its form fields */
    S3OP_COPY_OBJECT, /* a PUT of an object with x-amz-copy-source */
    S3OP_DELETE_OBJECTS,
    S3OP_GET_OBJECT_TAGGING,
    S3OP_PUT_OBJECT_TAGGING,
    S3OP_DELETE_OBJECT_TAGGING,
    S3OP_GET_BUCKET_TAGGING,
    S3OP_PUT_BUCKET_TAGGING,
    S3OP_DELETE_BUCKET_TAGGING,
    S3OP_GET_BUCKET_OWNERSHIP_CONTROLS,
    S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS,
    S3OP_DELETE_BUCKET_OWNERSHIP_CONTROLS,
    S3OP_GET_PUBLIC_ACCESS_BLOCK,
    S3OP_PUT_PUBLIC_ACCESS_BLOCK,
    S3OP_DELETE_PUBLIC_ACCESS_BLOCK,
    S3OP_LIST_OBJECT_VERSIONS,
    S3OP_GET_OBJECT_ATTRIBUTES,
    S3OP_PUT_BUCKET_ACL,
    S3OP_PUT_OBJECT_ACL,
    S3OP_GET_BUCKET_POLICY,
    S3OP_PUT_BUCKET_POLICY,
    S3OP_DELETE_BUCKET_POLICY,
    S3OP_GET_BUCKET_POLICY_STATUS,
    S3OP_ADMIN_SCRUB_START,  /* POST /_coffer/scrub (server/admin.h) */
    S3OP_ADMIN_SCRUB_STATUS, /* GET /_coffer/scrub */
    S3OP_ADMIN_USERS_LIST,   /* GET /_coffer/users */
    S3OP_ADMIN_USER_ADD,     /* POST /_coffer/users */
    S3OP_ADMIN_USER_REMOVE,  /* DELETE /_coffer/users/NAME */
    S3OP_ADMIN_KEY_ADD,      /* POST /_coffer/users/NAME/keys */
    S3OP_ADMIN_KEY_REMOVE,   /* DELETE /_coffer/keys/ACCESS_KEY */
    S3OP_NOT_IMPLEMENTED,    /* a sub-resource or form S3 has and Coffer does not serve yet */
    S3OP_METHOD_NOT_ALLOWED, /* a method S3 does not accept on this resource */
    S3OP_COUNT
} s3_op_t;

/** The operation's S3 name ("PutObject"), for logs and tests. */
const char *router_op_name(s3_op_t op);

typedef struct route_param {
    const char *name; /* percent-decoded, NUL-terminated (points into the scratch buffer) */
    size_t name_len;
    const char *value; /* percent-decoded, NUL-terminated; "" when the parameter had no '=' */
    size_t value_len;
} route_param_t;

#define ROUTE_MAX_PARAMS 48

typedef struct router_input {
    const char *method;
    size_t method_len;
    const char *path; /* the raw request target as sent: percent-encoded path, optionally '?' query */
    size_t path_len;
    const char *host; /* the Host header (may carry ":port"); may be NULL */
    size_t host_len;
    const char *domain; /* --domain for virtual-host-style addressing; may be NULL */
    size_t domain_len;
    int has_copy_source; /* the request has an x-amz-copy-source header (a PUT is then a copy) */
} router_input_t;

/** The paths of the admin endpoints (server/admin.h). */
#define ROUTER_ADMIN_SCRUB "/_coffer/scrub"
#define ROUTER_ADMIN_USERS "/_coffer/users"
#define ROUTER_ADMIN_KEYS "/_coffer/keys"

typedef struct route {
    s3_op_t op;
    const char *subresource; /* the sub-resource that chose op ("location", "uploads"), or NULL */
    const char *bucket;      /* decoded, NUL-terminated; "" when the request names no bucket */
    size_t bucket_len;
    const char *key; /* decoded bytes, NUL-terminated; "" when no key (admin routes: the user or access key in the path) */
    size_t key_len;
    int virtual_host;     /* the bucket came from the Host header */
    const char *raw_path; /* borrowed from the input: the path before '?' */
    size_t raw_path_len;
    const char *raw_query; /* borrowed: after '?', "" when none */
    size_t raw_query_len;
    size_t num_params;
    route_param_t params[ROUTE_MAX_PARAMS];
} route_t;

/** Scratch bytes router_route needs for an input path of path_len bytes. */
#define ROUTER_SCRATCH_LEN(path_len) (2 * (path_len) + 2 * ROUTE_MAX_PARAMS + 8)

/**
 * Routes a request. Decoded names point into scratch (ROUTER_SCRATCH_LEN bytes).
 * Returns S3ERR_NONE, or the error to answer with: S3ERR_INVALID_URI (bad escape,
 * path not starting with '/'), S3ERR_KEY_TOO_LONG, S3ERR_INVALID_ARGUMENT (too many
 * query parameters, bad list-type), S3ERR_INVALID_BUCKET_NAME (a Host naming a bucket
 * longer than STORE_BUCKET_NAME_MAX).
 */
s3err_t router_route(const router_input_t *in, route_t *out, char *scratch, size_t scratch_len);

/**
 * Whether name follows S3's bucket naming rules: 3-63 characters of lower-case
 * letters, digits, '.' and '-', starting and ending with a letter or digit, no "..",
 * not shaped like an IPv4 address, no reserved prefix ("xn--", "sthree-") or suffix
 * ("-s3alias", "--ol-s3").
 */
int router_bucket_name_valid(const char *name, size_t len);

/** Returns the decoded value of a query parameter, or NULL when absent. */
const char *route_param(const route_t *r, const char *name, size_t *value_len);

#endif
