/* server/router.c -- S3 request routing, a pure function over strings.
 *
 * DESIGN: the raw request target is used, never a normalized one: S3 keys may
 * contain '.', '..' and '//' and must reach storage byte for byte. The path is
 * percent-decoded exactly once; '+' stays '+' (S3 clients encode a space as
 * %20). The bucket comes from the Host header when it ends in ".<domain>"
 * (virtual-host style), else from the first path segment (path style).
 * Query parameters that name a sub-resource choose the operation; other
 * parameters are kept for the operation to read, and unknown ones are ignored
 * as AWS does. */
#include "server/router.h"

#include <string.h>

#include "auth/sigv4.h"
#include "storage/store.h"

static const char *const op_names[S3OP_COUNT] = {
    [S3OP_INVALID] = "Invalid",
    [S3OP_LIST_BUCKETS] = "ListBuckets",
    [S3OP_CREATE_BUCKET] = "CreateBucket",
    [S3OP_HEAD_BUCKET] = "HeadBucket",
    [S3OP_DELETE_BUCKET] = "DeleteBucket",
    [S3OP_GET_BUCKET_LOCATION] = "GetBucketLocation",
    [S3OP_GET_BUCKET_VERSIONING] = "GetBucketVersioning",
    [S3OP_GET_BUCKET_ACL] = "GetBucketAcl",
    [S3OP_LIST_OBJECTS] = "ListObjects",
    [S3OP_LIST_OBJECTS_V2] = "ListObjectsV2",
    [S3OP_PUT_OBJECT] = "PutObject",
    [S3OP_GET_OBJECT] = "GetObject",
    [S3OP_HEAD_OBJECT] = "HeadObject",
    [S3OP_DELETE_OBJECT] = "DeleteObject",
    [S3OP_GET_OBJECT_ACL] = "GetObjectAcl",
    [S3OP_CREATE_MULTIPART_UPLOAD] = "CreateMultipartUpload",
    [S3OP_UPLOAD_PART] = "UploadPart",
    [S3OP_UPLOAD_PART_COPY] = "UploadPartCopy",
    [S3OP_COMPLETE_MULTIPART_UPLOAD] = "CompleteMultipartUpload",
    [S3OP_ABORT_MULTIPART_UPLOAD] = "AbortMultipartUpload",
    [S3OP_LIST_PARTS] = "ListParts",
    [S3OP_LIST_MULTIPART_UPLOADS] = "ListMultipartUploads",
    [S3OP_POST_OBJECT] = "PostObject",
    [S3OP_COPY_OBJECT] = "CopyObject",
    [S3OP_DELETE_OBJECTS] = "DeleteObjects",
    [S3OP_GET_OBJECT_TAGGING] = "GetObjectTagging",
    [S3OP_PUT_OBJECT_TAGGING] = "PutObjectTagging",
    [S3OP_DELETE_OBJECT_TAGGING] = "DeleteObjectTagging",
    [S3OP_GET_BUCKET_TAGGING] = "GetBucketTagging",
    [S3OP_PUT_BUCKET_TAGGING] = "PutBucketTagging",
    [S3OP_DELETE_BUCKET_TAGGING] = "DeleteBucketTagging",
    [S3OP_GET_BUCKET_OWNERSHIP_CONTROLS] = "GetBucketOwnershipControls",
    [S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS] = "PutBucketOwnershipControls",
    [S3OP_DELETE_BUCKET_OWNERSHIP_CONTROLS] = "DeleteBucketOwnershipControls",
    [S3OP_GET_PUBLIC_ACCESS_BLOCK] = "GetPublicAccessBlock",
    [S3OP_PUT_PUBLIC_ACCESS_BLOCK] = "PutPublicAccessBlock",
    [S3OP_DELETE_PUBLIC_ACCESS_BLOCK] = "DeletePublicAccessBlock",
    [S3OP_LIST_OBJECT_VERSIONS] = "ListObjectVersions",
    [S3OP_GET_OBJECT_ATTRIBUTES] = "GetObjectAttributes",
    [S3OP_PUT_BUCKET_ACL] = "PutBucketAcl",
    [S3OP_PUT_OBJECT_ACL] = "PutObjectAcl",
    [S3OP_GET_BUCKET_POLICY] = "GetBucketPolicy",
    [S3OP_PUT_BUCKET_POLICY] = "PutBucketPolicy",
    [S3OP_DELETE_BUCKET_POLICY] = "DeleteBucketPolicy",
    [S3OP_GET_BUCKET_POLICY_STATUS] = "GetBucketPolicyStatus",
    [S3OP_ADMIN_SCRUB_START] = "AdminScrubStart",
    [S3OP_ADMIN_SCRUB_STATUS] = "AdminScrubStatus",
    [S3OP_ADMIN_USERS_LIST] = "AdminListUsers",
    [S3OP_ADMIN_USER_ADD] = "AdminAddUser",
    [S3OP_ADMIN_USER_REMOVE] = "AdminRemoveUser",
    [S3OP_ADMIN_KEY_ADD] = "AdminAddKey",
    [S3OP_ADMIN_KEY_REMOVE] = "AdminRemoveKey",
    [S3OP_NOT_IMPLEMENTED] = "NotImplemented",
    [S3OP_METHOD_NOT_ALLOWED] = "MethodNotAllowed",
};

const char *router_op_name(s3_op_t op)
{
    return op < S3OP_COUNT && op_names[op] != NULL ? op_names[op] : "Unknown";
}

/* Every sub-resource S3 defines; one present in the query selects a sub-resource operation. */
static const char *const subresources[] = {
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "renameObject",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versioning",
    "versions",
    "website",
};

static const char *find_subresource(const route_t *r)
{
    for (size_t i = 0; i < r->num_params; ++i) {
        for (size_t j = 0; j < sizeof(subresources) / sizeof(subresources[0]); ++j) {
            if (strcmp(r->params[i].name, subresources[j]) == 0)
                return subresources[j];
        }
    }
    return NULL;
}

static int method_is(const router_input_t *in, const char *m)
{
    size_t len = strlen(m);
    return in->method_len == len && memcmp(in->method, m, len) == 0;
}

/* Decodes src into *cursor (NUL-terminated); returns the decoded start or NULL on a bad escape. */
static char *decode_into(const char *src, size_t len, char **cursor, size_t *out_len)
{
    char *dst = *cursor;
    long n = sigv4_uri_decode(src, len, dst);
    if (n < 0)
        return NULL;
    *out_len = (size_t)n;
    *cursor = dst + n + 1;
    return dst;
}

static s3err_t parse_query(const char *q, size_t len, route_t *out, char **cursor)
{
    const char *end = q + len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *item_end = amp != NULL ? amp : end;
        if (item_end > q) {
            if (out->num_params == ROUTE_MAX_PARAMS)
                return S3ERR_INVALID_ARGUMENT;
            route_param_t *p = &out->params[out->num_params];
            const char *eq = memchr(q, '=', (size_t)(item_end - q));
            const char *name_end = eq != NULL ? eq : item_end;
            if ((p->name = decode_into(q, (size_t)(name_end - q), cursor, &p->name_len)) == NULL)
                return S3ERR_INVALID_URI;
            if (eq != NULL) {
                if ((p->value = decode_into(eq + 1, (size_t)(item_end - eq - 1), cursor, &p->value_len)) == NULL)
                    return S3ERR_INVALID_URI;
            } else {
                p->value = "";
                p->value_len = 0;
            }
            ++out->num_params;
        }
        q = item_end + 1;
    }
    return S3ERR_NONE;
}

/* Host without its port, when it names a bucket under domain; returns the bucket length or 0. */
static size_t virtual_host_bucket(const router_input_t *in)
{
    if (in->domain == NULL || in->domain_len == 0 || in->host == NULL)
        return 0;
    size_t host_len = in->host_len;
    if (host_len > 0 && in->host[0] != '[') { /* strip ":port" (not inside an IPv6 literal) */
        const char *colon = memchr(in->host, ':', host_len);
        if (colon != NULL)
            host_len = (size_t)(colon - in->host);
    }
    if (host_len <= in->domain_len + 1)
        return 0;
    size_t blen = host_len - in->domain_len - 1;
    if (in->host[blen] != '.' || strncasecmp(in->host + blen + 1, in->domain, in->domain_len) != 0)
        return 0;
    return blen;
}

/* A sub-resource served with GET, PUT and DELETE: the operation for in's method, else MethodNotAllowed. */
static s3_op_t crud_op(const router_input_t *in, s3_op_t get, s3_op_t put, s3_op_t del)
{
    if (method_is(in, "GET"))
        return get;
    if (method_is(in, "PUT"))
        return put;
    if (method_is(in, "DELETE"))
        return del;
    return S3OP_METHOD_NOT_ALLOWED;
}

static s3_op_t bucket_op(const router_input_t *in, route_t *r)
{
    if (r->subresource != NULL) {
        if (strcmp(r->subresource, "tagging") == 0)
            return crud_op(in, S3OP_GET_BUCKET_TAGGING, S3OP_PUT_BUCKET_TAGGING, S3OP_DELETE_BUCKET_TAGGING);
        if (strcmp(r->subresource, "ownershipControls") == 0)
            return crud_op(in, S3OP_GET_BUCKET_OWNERSHIP_CONTROLS, S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS,
                           S3OP_DELETE_BUCKET_OWNERSHIP_CONTROLS);
        if (strcmp(r->subresource, "publicAccessBlock") == 0)
            return crud_op(in, S3OP_GET_PUBLIC_ACCESS_BLOCK, S3OP_PUT_PUBLIC_ACCESS_BLOCK, S3OP_DELETE_PUBLIC_ACCESS_BLOCK);
        if (strcmp(r->subresource, "delete") == 0)
            return method_is(in, "POST") ? S3OP_DELETE_OBJECTS : S3OP_METHOD_NOT_ALLOWED;
        if (strcmp(r->subresource, "policy") == 0)
            return crud_op(in, S3OP_GET_BUCKET_POLICY, S3OP_PUT_BUCKET_POLICY, S3OP_DELETE_BUCKET_POLICY);
        if (strcmp(r->subresource, "policyStatus") == 0)
            return method_is(in, "GET") ? S3OP_GET_BUCKET_POLICY_STATUS : S3OP_METHOD_NOT_ALLOWED;
        if (strcmp(r->subresource, "acl") == 0 && method_is(in, "PUT"))
            return S3OP_PUT_BUCKET_ACL;
        if (method_is(in, "GET")) {
            if (strcmp(r->subresource, "versions") == 0)
                return S3OP_LIST_OBJECT_VERSIONS;
            if (strcmp(r->subresource, "location") == 0)
                return S3OP_GET_BUCKET_LOCATION;
            if (strcmp(r->subresource, "versioning") == 0)
                return S3OP_GET_BUCKET_VERSIONING;
            if (strcmp(r->subresource, "acl") == 0)
                return S3OP_GET_BUCKET_ACL;
            if (strcmp(r->subresource, "uploads") == 0)
                return S3OP_LIST_MULTIPART_UPLOADS;
        }
        if (strcmp(r->subresource, "uploads") == 0)
            return S3OP_METHOD_NOT_ALLOWED; /* a bucket's uploads can only be listed */
        return S3OP_NOT_IMPLEMENTED;
    }
    if (method_is(in, "GET")) {
        size_t lt_len;
        const char *lt = route_param(r, "list-type", &lt_len);
        return lt != NULL && strcmp(lt, "2") == 0 ? S3OP_LIST_OBJECTS_V2 : S3OP_LIST_OBJECTS;
    }
    if (method_is(in, "PUT"))
        return S3OP_CREATE_BUCKET;
    if (method_is(in, "HEAD"))
        return S3OP_HEAD_BUCKET;
    if (method_is(in, "DELETE"))
        return S3OP_DELETE_BUCKET;
    if (method_is(in, "POST"))
        return S3OP_POST_OBJECT; /* a browser-form upload (POST policy) */
    return S3OP_METHOD_NOT_ALLOWED;
}

/* An object request naming an upload. PUT without partNumber is still UploadPart: the
 * handler validates partNumber. S3 has no HEAD on an upload. */
static s3_op_t upload_op(const router_input_t *in)
{
    if (method_is(in, "PUT"))
        return in->has_copy_source ? S3OP_UPLOAD_PART_COPY : S3OP_UPLOAD_PART;
    if (method_is(in, "POST"))
        return S3OP_COMPLETE_MULTIPART_UPLOAD;
    if (method_is(in, "DELETE"))
        return S3OP_ABORT_MULTIPART_UPLOAD;
    if (method_is(in, "GET"))
        return S3OP_LIST_PARTS;
    return S3OP_METHOD_NOT_ALLOWED;
}

static s3_op_t object_op(const router_input_t *in, route_t *r)
{
    if (r->subresource != NULL) {
        if (strcmp(r->subresource, "uploads") == 0)
            return method_is(in, "POST") ? S3OP_CREATE_MULTIPART_UPLOAD : S3OP_METHOD_NOT_ALLOWED;
        if (strcmp(r->subresource, "uploadId") == 0)
            return upload_op(in);
        if (strcmp(r->subresource, "acl") == 0)
            return method_is(in, "GET")   ? S3OP_GET_OBJECT_ACL
                   : method_is(in, "PUT") ? S3OP_PUT_OBJECT_ACL
                                          : S3OP_METHOD_NOT_ALLOWED;
        if (strcmp(r->subresource, "tagging") == 0)
            return crud_op(in, S3OP_GET_OBJECT_TAGGING, S3OP_PUT_OBJECT_TAGGING, S3OP_DELETE_OBJECT_TAGGING);
        if (strcmp(r->subresource, "attributes") == 0)
            return method_is(in, "GET") ? S3OP_GET_OBJECT_ATTRIBUTES : S3OP_METHOD_NOT_ALLOWED;
        return S3OP_NOT_IMPLEMENTED;
    }
    if (method_is(in, "PUT"))
        return in->has_copy_source ? S3OP_COPY_OBJECT : S3OP_PUT_OBJECT;
    if (method_is(in, "GET"))
        return S3OP_GET_OBJECT;
    if (method_is(in, "HEAD"))
        return S3OP_HEAD_OBJECT;
    if (method_is(in, "DELETE"))
        return S3OP_DELETE_OBJECT;
    if (method_is(in, "POST"))
        return S3OP_NOT_IMPLEMENTED;
    return S3OP_METHOD_NOT_ALLOWED;
}

/* Whether path (len bytes) is exactly s. */
static int path_is(const char *path, size_t len, const char *s)
{
    return len == strlen(s) && memcmp(path, s, len) == 0;
}

/*
 * Coffer's own admin endpoints, path-style only: no bucket can be named "_coffer". Returns 1
 * with out->op set (and out->key the user name or access key the path names), 0 when the path
 * is not an admin endpoint (it then names an object in the invalid bucket "_coffer"), or -1
 * for a bad escape.
 */
static int admin_route(const router_input_t *in, route_t *out, char **cursor)
{
    const char *p = out->raw_path, *item;
    size_t len = out->raw_path_len, item_len, prefix_len;
    int keys = 0;
    if (path_is(p, len, ROUTER_ADMIN_SCRUB)) {
        out->op = method_is(in, "POST")  ? S3OP_ADMIN_SCRUB_START
                  : method_is(in, "GET") ? S3OP_ADMIN_SCRUB_STATUS
                                         : S3OP_METHOD_NOT_ALLOWED;
        return 1;
    }
    if (path_is(p, len, ROUTER_ADMIN_USERS)) {
        out->op = method_is(in, "GET")    ? S3OP_ADMIN_USERS_LIST
                  : method_is(in, "POST") ? S3OP_ADMIN_USER_ADD
                                          : S3OP_METHOD_NOT_ALLOWED;
        return 1;
    }
    if (len > (prefix_len = sizeof(ROUTER_ADMIN_USERS)) && memcmp(p, ROUTER_ADMIN_USERS "/", prefix_len) == 0) {
        item = p + prefix_len;
        item_len = len - prefix_len;
        const char *slash = memchr(item, '/', item_len);
        if (slash != NULL) { /* only USERS/NAME/keys goes deeper */
            if (!path_is(slash, (size_t)(item + item_len - slash), "/keys"))
                return 0;
            item_len = (size_t)(slash - item);
            keys = 1;
        }
    } else if (len > (prefix_len = sizeof(ROUTER_ADMIN_KEYS)) && memcmp(p, ROUTER_ADMIN_KEYS "/", prefix_len) == 0) {
        item = p + prefix_len;
        item_len = len - prefix_len;
        if (memchr(item, '/', item_len) != NULL)
            return 0;
        keys = 2;
    } else {
        return 0;
    }
    if (item_len == 0)
        return 0;
    if ((out->key = decode_into(item, item_len, cursor, &out->key_len)) == NULL)
        return -1;
    if (keys == 0)
        out->op = method_is(in, "DELETE") ? S3OP_ADMIN_USER_REMOVE : S3OP_METHOD_NOT_ALLOWED;
    else if (keys == 1)
        out->op = method_is(in, "POST") ? S3OP_ADMIN_KEY_ADD : S3OP_METHOD_NOT_ALLOWED;
    else
        out->op = method_is(in, "DELETE") ? S3OP_ADMIN_KEY_REMOVE : S3OP_METHOD_NOT_ALLOWED;
    return 1;
}

s3err_t router_route(const router_input_t *in, route_t *out, char *scratch, size_t scratch_len)
{
    memset(out, 0, offsetof(route_t, params));
    out->bucket = out->key = "";
    if (scratch_len < ROUTER_SCRATCH_LEN(in->path_len) || in->path_len == 0 || in->path[0] != '/')
        return S3ERR_INVALID_URI;

    const char *qmark = memchr(in->path, '?', in->path_len);
    out->raw_path = in->path;
    out->raw_path_len = qmark != NULL ? (size_t)(qmark - in->path) : in->path_len;
    out->raw_query = qmark != NULL ? qmark + 1 : "";
    out->raw_query_len = qmark != NULL ? in->path_len - out->raw_path_len - 1 : 0;

    char *cursor = scratch;
    s3err_t err = parse_query(out->raw_query, out->raw_query_len, out, &cursor);
    if (err != S3ERR_NONE)
        return err;
    out->subresource = find_subresource(out);

    const char *p = out->raw_path + 1, *end = out->raw_path + out->raw_path_len;
    size_t vh_len = virtual_host_bucket(in);
    if (vh_len > STORE_BUCKET_NAME_MAX)
        return S3ERR_INVALID_BUCKET_NAME; /* no bucket has that name, and scratch is sized for the path, not the Host */
    if (vh_len != 0) {
        out->virtual_host = 1;
        memcpy(cursor, in->host, vh_len);
        cursor[vh_len] = '\0';
        out->bucket = cursor;
        out->bucket_len = vh_len;
        cursor += vh_len + 1;
    } else {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *seg_end = slash != NULL ? slash : end;
        int admin = admin_route(in, out, &cursor);
        if (admin != 0)
            return admin > 0 ? S3ERR_NONE : S3ERR_INVALID_URI;
        if (seg_end == p) { /* "/" : the service itself */
            out->op = method_is(in, "GET") ? S3OP_LIST_BUCKETS : S3OP_METHOD_NOT_ALLOWED;
            return S3ERR_NONE;
        }
        if ((out->bucket = decode_into(p, (size_t)(seg_end - p), &cursor, &out->bucket_len)) == NULL)
            return S3ERR_INVALID_URI;
        p = slash != NULL ? slash + 1 : end;
    }

    if (p < end) {
        if ((out->key = decode_into(p, (size_t)(end - p), &cursor, &out->key_len)) == NULL)
            return S3ERR_INVALID_URI;
        if (out->key_len > STORE_KEY_MAX)
            return S3ERR_KEY_TOO_LONG;
        out->op = object_op(in, out);
    } else {
        out->op = bucket_op(in, out);
        if (out->op == S3OP_LIST_OBJECTS) {
            size_t lt_len;
            if (route_param(out, "list-type", &lt_len) != NULL)
                return S3ERR_INVALID_ARGUMENT; /* list-type other than 2 */
        }
    }
    return S3ERR_NONE;
}

const char *route_param(const route_t *r, const char *name, size_t *value_len)
{
    for (size_t i = 0; i < r->num_params; ++i) {
        if (strcmp(r->params[i].name, name) == 0) {
            if (value_len != NULL)
                *value_len = r->params[i].value_len;
            return r->params[i].value;
        }
    }
    return NULL;
}

static int has_prefix(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(s, p, n) == 0;
}

static int has_suffix(const char *s, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && memcmp(s + len - n, p, n) == 0;
}

int router_bucket_name_valid(const char *name, size_t len)
{
    if (len < 3 || len > 63)
        return 0;
    int digits_and_dots_only = 1, dots = 0;
    for (size_t i = 0; i < len; ++i) {
        char c = name[i];
        if (c == '.') {
            ++dots;
            if (i > 0 && name[i - 1] == '.')
                return 0;
        } else if (c >= '0' && c <= '9') {
        } else if ((c >= 'a' && c <= 'z') || c == '-') {
            digits_and_dots_only = 0;
        } else {
            return 0;
        }
    }
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
        return 0;
    char last = name[len - 1];
    if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9')))
        return 0;
    if (digits_and_dots_only && dots == 3)
        return 0; /* looks like an IPv4 address */
    if (has_prefix(name, len, "xn--") || has_prefix(name, len, "sthree-") || has_suffix(name, len, "-s3alias") ||
        has_suffix(name, len, "--ol-s3"))
        return 0;
    return 1;
}
