/* tests/unit/test_router.c -- the router over a table of path-style and
 * virtual-host-style requests, and the bucket-name rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "server/router.h"

typedef struct route_case {
    const char *method;
    const char *path;
    const char *host;
    const char *domain;
    s3err_t err;
    s3_op_t op;
    const char *bucket;
    const char *key;  /* expected decoded key */
    size_t key_len;   /* 0 = strlen(key) */
    int virtual_host; /* expected: the bucket came from Host, not from the path */
} route_case_t;

static const route_case_t cases[] = {
    /* path style */
    {"GET", "/", "127.0.0.1:9000", NULL, S3ERR_NONE, S3OP_LIST_BUCKETS, "", "", 0, 0},
    /* Coffer's admin endpoint, path-style only; anything else under /_coffer is an (invalid) bucket */
    {"POST", "/_coffer/scrub", "h", NULL, S3ERR_NONE, S3OP_ADMIN_SCRUB_START, "", "", 0, 0},
    {"GET", "/_coffer/scrub?from=3", "h", NULL, S3ERR_NONE, S3OP_ADMIN_SCRUB_STATUS, "", "", 0, 0},
    {"PUT", "/_coffer/scrub", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "", "", 0, 0},
    {"GET", "/_coffer/scrub/x", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "_coffer", "scrub/x", 0, 0},
    {"GET", "/_coffer/scrub", "_coffer.example.com", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "_coffer", "_coffer/scrub", 0, 1},
    /* users and keys: the user name or access key of the path comes back decoded in key */
    {"GET", "/_coffer/users", "h", NULL, S3ERR_NONE, S3OP_ADMIN_USERS_LIST, "", "", 0, 0},
    {"POST", "/_coffer/users", "h", NULL, S3ERR_NONE, S3OP_ADMIN_USER_ADD, "", "", 0, 0},
    {"DELETE", "/_coffer/users", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "", "", 0, 0},
    {"DELETE", "/_coffer/users/alice", "h", NULL, S3ERR_NONE, S3OP_ADMIN_USER_REMOVE, "", "alice", 0, 0},
    {"DELETE", "/_coffer/users/a%40b%2Bc%3Dd%2Ce", "h", NULL, S3ERR_NONE, S3OP_ADMIN_USER_REMOVE, "", "a@b+c=d,e", 0, 0},
    {"DELETE", "/_coffer/users/a@b+c", "h", NULL, S3ERR_NONE, S3OP_ADMIN_USER_REMOVE, "", "a@b+c", 0, 0},
    {"GET", "/_coffer/users/alice", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "", "alice", 0, 0},
    {"DELETE", "/_coffer/users/%zz", "h", NULL, S3ERR_INVALID_URI, S3OP_INVALID, "", "", 0, 0},
    {"POST", "/_coffer/users/alice/keys", "h", NULL, S3ERR_NONE, S3OP_ADMIN_KEY_ADD, "", "alice", 0, 0},
    {"GET", "/_coffer/users/alice/keys", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "", "alice", 0, 0},
    {"DELETE", "/_coffer/keys/AKEXAMPLE0000001", "h", NULL, S3ERR_NONE, S3OP_ADMIN_KEY_REMOVE, "", "AKEXAMPLE0000001", 0, 0},
    {"POST", "/_coffer/keys/AKEXAMPLE0000001", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "", "AKEXAMPLE0000001", 0, 0},
    /* anything else there is an object of the bucket "_coffer", which cannot exist */
    {"DELETE", "/_coffer/users/", "h", NULL, S3ERR_NONE, S3OP_DELETE_OBJECT, "_coffer", "users/", 0, 0},
    {"POST", "/_coffer/users/alice/other", "h", NULL, S3ERR_NONE, S3OP_NOT_IMPLEMENTED, "_coffer", "users/alice/other", 0, 0},
    {"POST", "/_coffer/users//keys", "h", NULL, S3ERR_NONE, S3OP_NOT_IMPLEMENTED, "_coffer", "users//keys", 0, 0},
    {"DELETE", "/_coffer/keys/", "h", NULL, S3ERR_NONE, S3OP_DELETE_OBJECT, "_coffer", "keys/", 0, 0},
    {"DELETE", "/_coffer/keys/A/B", "h", NULL, S3ERR_NONE, S3OP_DELETE_OBJECT, "_coffer", "keys/A/B", 0, 0},
    {"GET", "/_coffer/keys", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "_coffer", "keys", 0, 0},
    {"GET", "/_coffer/users", "_coffer.example.com", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "_coffer", "_coffer/users", 0, 1},
    {"PUT", "/", "127.0.0.1:9000", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "", "", 0, 0},
    {"PUT", "/bkt", "h", NULL, S3ERR_NONE, S3OP_CREATE_BUCKET, "bkt", "", 0, 0},
    {"PUT", "/bkt/", "h", NULL, S3ERR_NONE, S3OP_CREATE_BUCKET, "bkt", "", 0, 0},
    {"HEAD", "/bkt", "h", NULL, S3ERR_NONE, S3OP_HEAD_BUCKET, "bkt", "", 0, 0},
    {"DELETE", "/bkt", "h", NULL, S3ERR_NONE, S3OP_DELETE_BUCKET, "bkt", "", 0, 0},
    {"GET", "/bkt?location", "h", NULL, S3ERR_NONE, S3OP_GET_BUCKET_LOCATION, "bkt", "", 0, 0},
    {"GET", "/bkt?versioning", "h", NULL, S3ERR_NONE, S3OP_GET_BUCKET_VERSIONING, "bkt", "", 0, 0},
    {"GET", "/bkt?acl", "h", NULL, S3ERR_NONE, S3OP_GET_BUCKET_ACL, "bkt", "", 0, 0},
    {"GET", "/bkt", "h", NULL, S3ERR_NONE, S3OP_LIST_OBJECTS, "bkt", "", 0, 0},
    {"GET", "/bkt?prefix=a%2Fb&delimiter=%2F&marker=x", "h", NULL, S3ERR_NONE, S3OP_LIST_OBJECTS, "bkt", "", 0, 0},
    {"GET", "/bkt?list-type=2&prefix=", "h", NULL, S3ERR_NONE, S3OP_LIST_OBJECTS_V2, "bkt", "", 0, 0},
    {"GET", "/bkt?list-type=3", "h", NULL, S3ERR_INVALID_ARGUMENT, S3OP_LIST_OBJECTS, "bkt", "", 0, 0},
    {"POST", "/bkt?delete", "h", NULL, S3ERR_NONE, S3OP_DELETE_OBJECTS, "bkt", "", 0, 0},
    {"GET", "/bkt?delete", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"GET", "/bkt?tagging", "h", NULL, S3ERR_NONE, S3OP_GET_BUCKET_TAGGING, "bkt", "", 0, 0},
    {"PUT", "/bkt?tagging", "h", NULL, S3ERR_NONE, S3OP_PUT_BUCKET_TAGGING, "bkt", "", 0, 0},
    {"DELETE", "/bkt?tagging", "h", NULL, S3ERR_NONE, S3OP_DELETE_BUCKET_TAGGING, "bkt", "", 0, 0},
    {"POST", "/bkt?tagging", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"GET", "/bkt?ownershipControls", "h", NULL, S3ERR_NONE, S3OP_GET_BUCKET_OWNERSHIP_CONTROLS, "bkt", "", 0, 0},
    {"PUT", "/bkt?ownershipControls", "h", NULL, S3ERR_NONE, S3OP_PUT_BUCKET_OWNERSHIP_CONTROLS, "bkt", "", 0, 0},
    {"DELETE", "/bkt?ownershipControls", "h", NULL, S3ERR_NONE, S3OP_DELETE_BUCKET_OWNERSHIP_CONTROLS, "bkt", "", 0, 0},
    {"GET", "/bkt?publicAccessBlock", "h", NULL, S3ERR_NONE, S3OP_GET_PUBLIC_ACCESS_BLOCK, "bkt", "", 0, 0},
    {"PUT", "/bkt?publicAccessBlock", "h", NULL, S3ERR_NONE, S3OP_PUT_PUBLIC_ACCESS_BLOCK, "bkt", "", 0, 0},
    {"DELETE", "/bkt?publicAccessBlock", "h", NULL, S3ERR_NONE, S3OP_DELETE_PUBLIC_ACCESS_BLOCK, "bkt", "", 0, 0},
    {"GET", "/bkt?versions", "h", NULL, S3ERR_NONE, S3OP_LIST_OBJECT_VERSIONS, "bkt", "", 0, 0},
    {"GET", "/bkt?versions&prefix=a", "h", NULL, S3ERR_NONE, S3OP_LIST_OBJECT_VERSIONS, "bkt", "", 0, 0},
    {"GET", "/bkt?lifecycle", "h", NULL, S3ERR_NONE, S3OP_NOT_IMPLEMENTED, "bkt", "", 0, 0},
    {"POST", "/bkt", "h", NULL, S3ERR_NONE, S3OP_POST_OBJECT, "bkt", "", 0, 0},
    {"POST", "/", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_POST_OBJECT, "bkt", "", 0, 1},
    {"PUT", "/bkt?policy", "h", NULL, S3ERR_NONE, S3OP_PUT_BUCKET_POLICY, "bkt", "", 0, 0},
    {"GET", "/bkt?policy", "h", NULL, S3ERR_NONE, S3OP_GET_BUCKET_POLICY, "bkt", "", 0, 0},
    {"DELETE", "/bkt?policy", "h", NULL, S3ERR_NONE, S3OP_DELETE_BUCKET_POLICY, "bkt", "", 0, 0},
    {"POST", "/bkt?policy", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"GET", "/bkt?policyStatus", "h", NULL, S3ERR_NONE, S3OP_GET_BUCKET_POLICY_STATUS, "bkt", "", 0, 0},
    {"PUT", "/bkt?policyStatus", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"PUT", "/bkt?acl", "h", NULL, S3ERR_NONE, S3OP_PUT_BUCKET_ACL, "bkt", "", 0, 0},
    {"PUT", "/bkt/key?acl", "h", NULL, S3ERR_NONE, S3OP_PUT_OBJECT_ACL, "bkt", "key", 0, 0},
    {"POST", "/bkt/key?acl", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    {"PATCH", "/bkt", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"PUT", "/bkt/key", "h", NULL, S3ERR_NONE, S3OP_PUT_OBJECT, "bkt", "key", 0, 0},
    {"GET", "/bkt/key", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "key", 0, 0},
    {"HEAD", "/bkt/key", "h", NULL, S3ERR_NONE, S3OP_HEAD_OBJECT, "bkt", "key", 0, 0},
    {"DELETE", "/bkt/key", "h", NULL, S3ERR_NONE, S3OP_DELETE_OBJECT, "bkt", "key", 0, 0},
    {"GET", "/bkt/key?acl", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT_ACL, "bkt", "key", 0, 0},
    {"PUT", "/bkt/key?tagging", "h", NULL, S3ERR_NONE, S3OP_PUT_OBJECT_TAGGING, "bkt", "key", 0, 0},
    {"GET", "/bkt/key?tagging", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT_TAGGING, "bkt", "key", 0, 0},
    {"DELETE", "/bkt/key?tagging", "h", NULL, S3ERR_NONE, S3OP_DELETE_OBJECT_TAGGING, "bkt", "key", 0, 0},
    {"GET", "/bkt/key?attributes", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT_ATTRIBUTES, "bkt", "key", 0, 0},
    {"PUT", "/bkt/key?attributes", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    {"PUT", "/bkt/key?retention", "h", NULL, S3ERR_NONE, S3OP_NOT_IMPLEMENTED, "bkt", "key", 0, 0},
    /* multipart uploads */
    {"POST", "/bkt/key?uploads", "h", NULL, S3ERR_NONE, S3OP_CREATE_MULTIPART_UPLOAD, "bkt", "key", 0, 0},
    {"POST", "/bkt/key?uploads=", "h", NULL, S3ERR_NONE, S3OP_CREATE_MULTIPART_UPLOAD, "bkt", "key", 0, 0},
    {"PUT", "/bkt/key?uploads", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    {"GET", "/bkt/key?uploads", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    {"DELETE", "/bkt/key?uploads", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    {"PUT", "/bkt/key?partNumber=1&uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_UPLOAD_PART, "bkt", "key", 0, 0},
    {"PUT", "/bkt/key?uploadId=abc&partNumber=10000", "h", NULL, S3ERR_NONE, S3OP_UPLOAD_PART, "bkt", "key", 0, 0},
    {"PUT", "/bkt/key?uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_UPLOAD_PART, "bkt", "key", 0, 0}, /* handler: InvalidArgument */
    {"PUT", "/bkt/a%2Fb?x-id=UploadPart&partNumber=2&uploadId=a%2Bb", "h", NULL, S3ERR_NONE, S3OP_UPLOAD_PART, "bkt", "a/b", 0, 0},
    {"POST", "/bkt/key?uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_COMPLETE_MULTIPART_UPLOAD, "bkt", "key", 0, 0},
    {"DELETE", "/bkt/key?uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_ABORT_MULTIPART_UPLOAD, "bkt", "key", 0, 0},
    {"GET", "/bkt/key?uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_LIST_PARTS, "bkt", "key", 0, 0},
    {"GET", "/bkt/key?uploadId=abc&max-parts=2&part-number-marker=1", "h", NULL, S3ERR_NONE, S3OP_LIST_PARTS, "bkt", "key", 0, 0},
    {"HEAD", "/bkt/key?uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    {"HEAD", "/bkt/key?partNumber=1&uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    {"PATCH", "/bkt/key?uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    {"GET", "/bkt?uploads", "h", NULL, S3ERR_NONE, S3OP_LIST_MULTIPART_UPLOADS, "bkt", "", 0, 0},
    {"GET", "/bkt?uploads&prefix=a%2F&delimiter=%2F&max-uploads=3", "h", NULL, S3ERR_NONE, S3OP_LIST_MULTIPART_UPLOADS, "bkt", "",
     0, 0},
    {"POST", "/bkt?uploads", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"PUT", "/bkt?uploads", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"HEAD", "/bkt?uploads", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"DELETE", "/bkt?uploads", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 0},
    {"GET", "/bkt?uploadId=abc", "h", NULL, S3ERR_NONE, S3OP_NOT_IMPLEMENTED, "bkt", "", 0, 0},
    /* partNumber alone is not a sub-resource: GET/HEAD of one part of an object */
    {"GET", "/bkt/key?partNumber=1", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "key", 0, 0},
    {"HEAD", "/bkt/key?partNumber=2", "h", NULL, S3ERR_NONE, S3OP_HEAD_OBJECT, "bkt", "key", 0, 0},
    {"PUT", "/bkt/key?partNumber=1", "h", NULL, S3ERR_NONE, S3OP_PUT_OBJECT, "bkt", "key", 0, 0},
    {"OPTIONS", "/bkt/key", "h", NULL, S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "key", 0, 0},
    /* unknown query parameters are ignored, as AWS does */
    {"GET", "/bkt/key?x-id=GetObject&response-content-type=a%2Fb", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "key", 0, 0},
    /* keys are decoded exactly once and never normalized */
    {"GET", "/bkt/dir/sub/file.txt", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "dir/sub/file.txt", 0, 0},
    {"GET", "/bkt/a%20b%2Bc+d%25e", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "a b+c+d%e", 0, 0},
    {"GET", "/bkt/../x/./y", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "../x/./y", 0, 0},
    {"GET", "/bkt//double//slash/", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "/double//slash/", 0, 0},
    {"GET", "/bkt/%C3%BC/%E6%97%A5%E6%9C%AC", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac", 0,
     0},
    {"GET", "/bkt/nul%00byte", "h", NULL, S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "nul\0byte", 8, 0},
    {"GET", "/bkt/%2", "h", NULL, S3ERR_INVALID_URI, S3OP_INVALID, "", "", 0, 0},
    {"GET", "/bkt/%zz", "h", NULL, S3ERR_INVALID_URI, S3OP_INVALID, "", "", 0, 0},
    {"GET", "bkt/key", "h", NULL, S3ERR_INVALID_URI, S3OP_INVALID, "", "", 0, 0},
    {"GET", "/bkt?prefix=%G0", "h", NULL, S3ERR_INVALID_URI, S3OP_INVALID, "", "", 0, 0},
    /* virtual-host style */
    {"GET", "/", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_LIST_OBJECTS, "bkt", "", 0, 1},
    {"GET", "/?list-type=2", "bkt.example.com:9000", "example.com", S3ERR_NONE, S3OP_LIST_OBJECTS_V2, "bkt", "", 0, 1},
    {"PUT", "/", "my.dotted.bkt.example.com", "example.com", S3ERR_NONE, S3OP_CREATE_BUCKET, "my.dotted.bkt", "", 0, 1},
    {"PUT", "/k/e/y", "bkt.EXAMPLE.com:80", "example.com", S3ERR_NONE, S3OP_PUT_OBJECT, "bkt", "k/e/y", 0, 1},
    {"GET", "//lead", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "/lead", 0, 1},
    {"POST", "/obj?uploads", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_CREATE_MULTIPART_UPLOAD, "bkt", "obj", 0, 1},
    {"PUT", "/obj?uploads", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "obj", 0, 1},
    {"PUT", "/obj?partNumber=3&uploadId=u1", "bkt.example.com:9000", "example.com", S3ERR_NONE, S3OP_UPLOAD_PART, "bkt", "obj", 0,
     1},
    {"PUT", "/obj?uploadId=u1", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_UPLOAD_PART, "bkt", "obj", 0, 1},
    {"POST", "/obj?uploadId=u1", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_COMPLETE_MULTIPART_UPLOAD, "bkt", "obj", 0, 1},
    {"DELETE", "/obj?uploadId=u1", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_ABORT_MULTIPART_UPLOAD, "bkt", "obj", 0, 1},
    {"GET", "/obj?uploadId=u1", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_LIST_PARTS, "bkt", "obj", 0, 1},
    {"HEAD", "/obj?uploadId=u1", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "obj", 0, 1},
    {"GET", "/?uploads", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_LIST_MULTIPART_UPLOADS, "bkt", "", 0, 1},
    {"POST", "/?uploads", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_METHOD_NOT_ALLOWED, "bkt", "", 0, 1},
    {"GET", "/obj?partNumber=1", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "obj", 0, 1},
    /* a key that starts with the bucket's name is still a key under a virtual host */
    {"GET", "/bkt/x", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "bkt/x", 0, 1},
    {"PUT", "/bkt", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_PUT_OBJECT, "bkt", "bkt", 0, 1},
    {"GET", "/bkt/", "bkt.example.com:9000", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "bkt/", 0, 1},
    {"HEAD", "/obj?partNumber=1", "bkt.example.com", "example.com", S3ERR_NONE, S3OP_HEAD_OBJECT, "bkt", "obj", 0, 1},
    /* the domain itself, or another host, is path style */
    {"GET", "/bkt/key", "example.com:9000", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "key", 0, 0},
    {"GET", "/", "example.com", "example.com", S3ERR_NONE, S3OP_LIST_BUCKETS, "", "", 0, 0},
    {"GET", "/bkt/key", "127.0.0.1:9000", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "key", 0, 0},
    {"GET", "/bkt/key", "bkt.other.org", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "key", 0, 0},
    {"GET", "/bkt/key", "xexample.com", "example.com", S3ERR_NONE, S3OP_GET_OBJECT, "bkt", "key", 0, 0},
};

static void test_route_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        const route_case_t *c = &cases[i];
        router_input_t in = {c->method, strlen(c->method),
                             c->path,   strlen(c->path),
                             c->host,   c->host ? strlen(c->host) : 0,
                             c->domain, c->domain ? strlen(c->domain) : 0,
                             0};
        char scratch[ROUTER_SCRATCH_LEN(256)];
        route_t r;
        s3err_t err = router_route(&in, &r, scratch, sizeof(scratch));
        if (err != c->err)
            fail_msg("case %zu (%s %s): err %d, want %d", i, c->method, c->path, err, c->err);
        if (err != S3ERR_NONE)
            continue;
        if (r.op != c->op)
            fail_msg("case %zu (%s %s): op %s, want %s", i, c->method, c->path, router_op_name(r.op), router_op_name(c->op));
        assert_string_equal(r.bucket, c->bucket);
        size_t key_len = c->key_len != 0 ? c->key_len : strlen(c->key);
        if (r.key_len != key_len || memcmp(r.key, c->key, key_len) != 0)
            fail_msg("case %zu (%s): key '%.*s', want '%s'", i, c->path, (int)r.key_len, r.key, c->key);
        if (r.virtual_host != c->virtual_host)
            fail_msg("case %zu (%s %s host %s): virtual_host %d, want %d", i, c->method, c->path, c->host, r.virtual_host,
                     c->virtual_host);
    }
}

static void test_route_params(void **state)
{
    (void)state;
    const char *path = "/bkt?list-type=2&prefix=a%2Fb+c&delimiter=%2F&continuation-token=abc%3D%3D&fetch-owner&empty=";
    router_input_t in = {"GET", 3, path, strlen(path), "h", 1, NULL, 0, 0};
    char scratch[ROUTER_SCRATCH_LEN(256)];
    route_t r;
    assert_int_equal(router_route(&in, &r, scratch, sizeof(scratch)), S3ERR_NONE);
    size_t len;
    assert_string_equal(route_param(&r, "prefix", &len), "a/b+c");
    assert_int_equal(len, 5);
    assert_string_equal(route_param(&r, "delimiter", NULL), "/");
    assert_string_equal(route_param(&r, "continuation-token", NULL), "abc==");
    assert_string_equal(route_param(&r, "fetch-owner", &len), "");
    assert_int_equal(len, 0);
    assert_string_equal(route_param(&r, "empty", NULL), "");
    assert_null(route_param(&r, "marker", NULL));
    assert_int_equal(r.raw_path_len, 4);
    assert_int_equal(r.raw_query_len, strlen(path) - 5);
}

static void test_route_multipart_params(void **state)
{
    (void)state;
    const char *path = "/bkt/key?partNumber=7&uploadId=VXBsb2Fk%2B%2F%3D";
    router_input_t in = {"PUT", 3, path, strlen(path), "h", 1, NULL, 0, 0};
    char scratch[ROUTER_SCRATCH_LEN(256)];
    route_t r;
    assert_int_equal(router_route(&in, &r, scratch, sizeof(scratch)), S3ERR_NONE);
    assert_int_equal(r.op, S3OP_UPLOAD_PART);
    assert_string_equal(r.subresource, "uploadId");
    assert_string_equal(route_param(&r, "partNumber", NULL), "7");
    assert_string_equal(route_param(&r, "uploadId", NULL), "VXBsb2Fk+/=");
}

static void test_op_names(void **state)
{
    (void)state;
    for (int op = 0; op < S3OP_COUNT; ++op) {
        if (strcmp(router_op_name((s3_op_t)op), "Unknown") == 0)
            fail_msg("op %d has no name", op);
    }
    assert_string_equal(router_op_name(S3OP_CREATE_MULTIPART_UPLOAD), "CreateMultipartUpload");
    assert_string_equal(router_op_name(S3OP_UPLOAD_PART), "UploadPart");
    assert_string_equal(router_op_name(S3OP_UPLOAD_PART_COPY), "UploadPartCopy");
    assert_string_equal(router_op_name(S3OP_COMPLETE_MULTIPART_UPLOAD), "CompleteMultipartUpload");
    assert_string_equal(router_op_name(S3OP_ABORT_MULTIPART_UPLOAD), "AbortMultipartUpload");
    assert_string_equal(router_op_name(S3OP_LIST_PARTS), "ListParts");
    assert_string_equal(router_op_name(S3OP_LIST_MULTIPART_UPLOADS), "ListMultipartUploads");
    assert_string_equal(router_op_name(S3OP_COUNT), "Unknown");
}

static void test_route_limits(void **state)
{
    (void)state;
    static char path[4096], scratch[ROUTER_SCRATCH_LEN(4096)];
    route_t r;
    /* a key of exactly 1024 bytes is fine, 1025 is KeyTooLongError */
    for (size_t n = 1024; n <= 1025; ++n) {
        int len = snprintf(path, sizeof(path), "/bkt/");
        memset(path + len, 'k', n);
        path[len + n] = '\0';
        router_input_t in = {"PUT", 3, path, strlen(path), "h", 1, NULL, 0, 0};
        assert_int_equal(router_route(&in, &r, scratch, sizeof(scratch)), n == 1024 ? S3ERR_NONE : S3ERR_KEY_TOO_LONG);
    }
    /* too many query parameters */
    int len = snprintf(path, sizeof(path), "/bkt?");
    for (int i = 0; i < ROUTE_MAX_PARAMS + 1; ++i)
        len += snprintf(path + len, sizeof(path) - len, "p%d=1&", i);
    router_input_t in = {"GET", 3, path, strlen(path), "h", 1, NULL, 0, 0};
    assert_int_equal(router_route(&in, &r, scratch, sizeof(scratch)), S3ERR_INVALID_ARGUMENT);
    /* a scratch buffer that is too small is refused, not overrun */
    router_input_t small = {"GET", 3, "/bkt/key", 8, "h", 1, NULL, 0, 0};
    assert_int_equal(router_route(&small, &r, scratch, 4), S3ERR_INVALID_URI);
}

static void test_bucket_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int valid;
    } names[] = {
        {"abc", 1},
        {"my-bucket.v2", 1},
        {"0bucket9", 1},
        {"a1.b2.c3", 1},
        {"ab", 0},
        {"a", 0},
        {"", 0},
        {"AB-upper", 0},
        {"a..b", 0},
        {"-ab", 0},
        {"ab-", 0},
        {".ab", 0},
        {"ab.", 0},
        {"192.168.1.1", 0},
        {"1.2.3", 1},
        {"xn--abc", 0},
        {"sthree-abc", 0},
        {"abc-s3alias", 0},
        {"abc--ol-s3", 0},
        {"under_score", 0},
        {"sp ace", 0},
        {"slash/x", 0},
        {"a123456789012345678901234567890123456789012345678901234567890bc", 1},
        {"a123456789012345678901234567890123456789012345678901234567890bcd", 0},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        if (router_bucket_name_valid(names[i].name, strlen(names[i].name)) != names[i].valid)
            fail_msg("bucket name '%s': want valid=%d", names[i].name, names[i].valid);
    }
}

/* x-amz-copy-source turns a PUT of an object or a part into a copy, and nothing else */
static void test_route_copies(void **state)
{
    (void)state;
    static const struct {
        const char *method, *path;
        int copy;
        s3_op_t op;
    } cases[] = {
        {"PUT", "/bkt/key", 1, S3OP_COPY_OBJECT},
        {"PUT", "/bkt/key", 0, S3OP_PUT_OBJECT},
        {"PUT", "/bkt/key?partNumber=1&uploadId=u", 1, S3OP_UPLOAD_PART_COPY},
        {"PUT", "/bkt/key?partNumber=1&uploadId=u", 0, S3OP_UPLOAD_PART},
        {"GET", "/bkt/key", 1, S3OP_GET_OBJECT},
        {"POST", "/bkt/key?uploadId=u", 1, S3OP_COMPLETE_MULTIPART_UPLOAD},
        {"PUT", "/bkt/key?tagging", 1, S3OP_PUT_OBJECT_TAGGING},
        {"PUT", "/bkt", 1, S3OP_CREATE_BUCKET},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        router_input_t in = {cases[i].method, strlen(cases[i].method), cases[i].path, strlen(cases[i].path), "h", 1, NULL, 0,
                             cases[i].copy};
        char scratch[ROUTER_SCRATCH_LEN(64)];
        route_t r;
        assert_int_equal(router_route(&in, &r, scratch, sizeof(scratch)), S3ERR_NONE);
        if (r.op != cases[i].op)
            fail_msg("case %zu: %s, want %s", i, router_op_name(r.op), router_op_name(cases[i].op));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_table),  cmocka_unit_test(test_route_copies),
        cmocka_unit_test(test_route_params), cmocka_unit_test(test_route_multipart_params),
        cmocka_unit_test(test_op_names),     cmocka_unit_test(test_route_limits),
        cmocka_unit_test(test_bucket_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
