/* server/handler.h -- one S3 request: route -> authenticate -> authorize -> operation, and the responses.
 *
 * Lifetime rule: Coffer speaks HTTP/1.1 only. After h2o has read a request's
 * whole body it stops reading the socket (lib/http1.c, on_entity_read_complete)
 * until the response is sent, so neither the request, its pool nor req->entity
 * can be freed while a job is in flight. That is what lets a worker thread
 * read the body and pool strings without copying them. HTTP/2 (which may free
 * a stream's body early) must not be enabled without revisiting this. */
#ifndef COFFER_HANDLER_H
#define COFFER_HANDLER_H

#include "auth/checksum.h"
#include "auth/chunked.h"
#include "auth/keys.h"
#include "server/iopool.h"
#include "server/router.h"
#include "server/s3err.h"
#include "server/serve.h"
#include "server/xml.h"

/** What decoding an aws-chunked body needs from the request's signature (see auth/chunked.h). */
typedef struct s3_streaming {
    chunked_mode_t mode;
    uint8_t signing_key[SIGV4_KEY_LEN]; /* signed modes; wiped when the request is disposed */
    char amz_date[17];
    char scope[128];
    char seed_signature[65];
} s3_streaming_t;

typedef struct s3_req {
    h2o_req_t *req;
    server_thread_t *thread;
    route_t route;
    int authenticated;
    keys_user_t user;   /* valid when authenticated */
    int authz_deferred; /* the decision waits for the object (server/authz.h: authz_object) */
    char request_id[17];
    int verify_payload_in_job; /* payload_sha256 still to be checked against the body by the operation's job */
    char payload_sha256[65];
    s3_streaming_t *streaming; /* pool memory: set when the body is aws-chunked (x-amz-content-sha256 STREAMING-...) */
} s3_req_t;

/** Whether the (possibly anonymous) requester may run r's operation: S3ERR_NONE or the error to answer. */
s3err_t s3_authorize(s3_req_t *r);

/** The h2o on_req callback for every path. */
int handler_on_req(h2o_handler_t *self, h2o_req_t *req);

/** Adds a response header (name lower-case); value is copied into the request pool. */
void s3_add_header(s3_req_t *r, const char *name, const char *value, size_t value_len);

/** Adds Last-Modified (RFC 1123, whole seconds) for an object's mtime. */
void s3_add_last_modified(s3_req_t *r, int64_t mtime_ns);

/** Sends an S3 error document (message NULL = AWS's default). */
void s3_send_error(s3_req_t *r, s3err_t err, const char *message);

/** Sets the response status and its reason phrase. */
void s3_set_status(s3_req_t *r, int status);

/** Sends body (copied) with status and an exact Content-Length. */
void s3_send_body(s3_req_t *r, int status, const char *body, size_t len);

/** Sends an XML document with status, and frees it. */
void s3_send_xml(s3_req_t *r, int status, xmlw_t *doc);

/** Sends a response with no body. */
void s3_send_empty(s3_req_t *r, int status);

/** Queues job on the I/O pool; its done() runs on this request's loop. */
void s3_submit(s3_req_t *r, iopool_job_t *job);

/** Marks a job finished for shutdown accounting; call first thing in every done(). */
void s3_job_finished(server_thread_t *t);

/** The value of a request header (name lower-case), or NULL. */
const char *s3_header(s3_req_t *r, const char *name, size_t *len);

typedef enum s3_cond {
    S3_COND_PASS = 0,
    S3_COND_PRECONDITION_FAILED, /* If-Match or If-Unmodified-Since failed: 412 */
    S3_COND_NOT_MODIFIED,        /* If-None-Match or If-Modified-Since failed: 304 on GET/HEAD, 412 for a copy source */
} s3_cond_t;

/**
 * Evaluates the four If-* conditions of the request against obj, as S3 combines them.
 * prefix is "" (GET/HEAD) or "x-amz-copy-source-" (the source of a copy).
 */
s3_cond_t s3_check_conditions(s3_req_t *r, const char *prefix, const store_object_t *obj);

/**
 * Parses an ETag as a client sends it: "<32 hex>" or "<32 hex>-<parts>", quotes optional.
 * Returns 0 with md5 and *num_parts (0 for a single-part ETag), or -1 when no object can have it.
 */
int s3_parse_etag(const char *v, size_t len, uint8_t md5[16], uint32_t *num_parts);

/**
 * Reads a conditional write's headers (PutObject, CompleteMultipartUpload): If-None-Match: *
 * (create only) and If-Match: <etag> or * (an ETag no object can have matches none). Returns
 * S3ERR_NONE with cond filled (left as it was when neither header is sent), or
 * S3ERR_NOT_IMPLEMENTED with *message for an If-None-Match other than *. Defined in ops_object.c.
 */
s3err_t s3_parse_write_conditions(s3_req_t *r, store_precondition_t *cond, const char **message);

/** Writes <tag><ID>..</ID><DisplayName>..</DisplayName></tag> for a user (Owner, Initiator). */
void s3_xml_owner(xmlw_t *w, const char *tag, const keys_user_t *u);

/** As s3_xml_owner, for an owner known by canonical id and display name (both NUL-terminated). */
void s3_xml_owner_id(xmlw_t *w, const char *tag, const char *id, const char *name);

/** Writes <tag>value</tag>, URL-encoded when url_encode (the request asked for encoding-type=url). */
void s3_xml_key(xmlw_t *w, const char *tag, const char *v, size_t len, int url_encode);

/** Reads encoding-type: absent (0) or "url" (1). Returns 0, or -1 for any other value. */
int s3_parse_encoding_type(s3_req_t *r, int *url_encode);

/** Parses a decimal of at most max (no sign, no blanks, at least one digit). Returns 0 or -1. */
int s3_parse_uint(const char *v, size_t len, uint64_t max, uint64_t *out);

/** Parses a listing limit (max-keys, max-parts, max-uploads): a non-negative decimal, capped at 1000. Returns 0 or -1. */
#define S3_LIST_MAX 1000
int s3_parse_list_limit(const char *v, size_t len, size_t *out);

/** Parses a part number: a decimal in 1..10000. Returns 0 or -1. */
int s3_parse_part_number(const char *v, size_t len, uint32_t *out);

/** The attributes GetObjectAttributes can return (x-amz-object-attributes). */
#define S3_ATTR_ETAG 1u
#define S3_ATTR_CHECKSUM 2u
#define S3_ATTR_OBJECT_PARTS 4u
#define S3_ATTR_STORAGE_CLASS 8u
#define S3_ATTR_OBJECT_SIZE 16u
/**
 * Adds the attributes of a comma-separated x-amz-object-attributes value ("ETag, ObjectSize";
 * names as S3 spells them, blanks and empty items ignored) to *mask. Returns 0, or -1 for an unknown name.
 */
int s3_parse_object_attributes(const char *v, size_t len, unsigned *mask);

/** Decodes a Content-MD5 header (base64 of 16 bytes). Returns 0 or -1. */
int s3_decode_content_md5(const char *v, size_t len, uint8_t out[16]);

/** A copy's source, from x-amz-copy-source ("[/]bucket/key[?versionId=null]", URL-encoded). */
typedef struct s3_copy_source {
    char *bucket; /* pool memory, NUL-terminated */
    const char *key;
    size_t key_len;
} s3_copy_source_t;

/**
 * Parses x-amz-copy-source. Returns S3ERR_NONE, S3ERR_INVALID_ARGUMENT (*message set),
 * S3ERR_KEY_TOO_LONG, or S3ERR_NO_SUCH_VERSION for a version other than "null".
 */
s3err_t s3_parse_copy_source(s3_req_t *r, s3_copy_source_t *src, const char **message);

/** How many times a copy looks its source up again when the source is replaced under it (-EAGAIN from storage). */
#define S3_COPY_ATTEMPTS 3

/** Stored headers at most: every header h2o parses (S3 limits metadata by size only), plus the default content type. */
#define S3_STORED_HEADERS_MAX (H2O_MAX_HEADERS + 1)
/**
 * Collects the request headers kept with an object (content headers, x-amz-meta-*, and the
 * tags of x-amz-tagging, validated and in canonical form: see server/tagging.h) into out
 * (S3_STORED_HEADERS_MAX entries; strings borrowed from the request or its pool), adding
 * AWS's default content type when none was sent, and the object's ACL (server/authz.h).
 * Returns S3ERR_NONE, S3ERR_METADATA_TOO_LARGE, a tagging error (InvalidArgument, InvalidTag,
 * BadRequest) or an ACL error, with *message set to AWS's text.
 */
s3err_t s3_collect_stored_headers(s3_req_t *r, store_kv_t *out, size_t *num, const char **message);

/**
 * The common shape of an operation: run() does the blocking part on a worker
 * and leaves its answer here; the loop then sends err (if set), else xml (if
 * has_xml), else an empty response with status and the optional ETag and
 * extra header. Allocated with s3_job_new (extra bytes for the operation's own
 * state follow the struct) and freed after the answer is sent.
 */
typedef struct s3_job {
    iopool_job_t super;
    s3_req_t *r; /* borrowed: alive until the answer is sent (see the lifetime rule above) */
    void (*run)(struct s3_job *job);
    s3err_t err;
    const char *err_message; /* static string or NULL */
    int status;
    int has_xml;
    xmlw_t xml;
    char etag[S3_ETAG_MAX];
    const char *header_name; /* static; optional extra response header */
    char header_value[320];
    cksum_alg_t cksum_alg; /* optional x-amz-checksum-<alg> response header (s3_job_set_checksum) */
    char cksum_value[CKSUM_COMPOSITE_SIZE];
    const char *cksum_type;             /* static; optional x-amz-checksum-type */
    _Alignas(16) unsigned char extra[]; /* the operation's state */
} s3_job_t;

/** Allocates a zeroed job with extra_len bytes of operation state; status defaults to 200. */
s3_job_t *s3_job_new(s3_req_t *r, void (*run)(s3_job_t *job), size_t extra_len);

/** Answers err (message NULL = AWS's default; it may point into the job) instead of queueing the job, and frees it. */
void s3_job_refuse(s3_job_t *job, s3err_t err, const char *message);

/** Queues the job; the answer is sent from the loop when run() returns. */
void s3_job_start(s3_job_t *job);

/**
 * For a job whose work another thread does instead of the pool (run is not called):
 * counts it in flight. That thread leaves the answer in the job and calls s3_job_complete,
 * and the loop sends it. s3_job_finished undoes this for a job that was never handed over.
 */
void s3_job_begin_elsewhere(s3_job_t *job);
void s3_job_complete(s3_job_t *job);

/* Operation entry points (ops_*.c), each answers the request eventually. */
void ops_list_buckets(s3_req_t *r);
void ops_create_bucket(s3_req_t *r);
void ops_head_bucket(s3_req_t *r);
void ops_delete_bucket(s3_req_t *r);
void ops_get_bucket_location(s3_req_t *r);
void ops_get_bucket_versioning(s3_req_t *r);
void ops_acl(s3_req_t *r);           /* ops_acl.c: Get/PutBucketAcl, Get/PutObjectAcl */
void ops_bucket_policy(s3_req_t *r); /* ops_policy.c: Get/Put/DeleteBucketPolicy, GetBucketPolicyStatus */
void ops_list_objects(s3_req_t *r, int v2);
void ops_put_object(s3_req_t *r);
void ops_get_object(s3_req_t *r, int head);
void ops_delete_object(s3_req_t *r);
void ops_create_multipart_upload(s3_req_t *r);
void ops_upload_part(s3_req_t *r);
void ops_complete_multipart_upload(s3_req_t *r);
void ops_abort_multipart_upload(s3_req_t *r);
void ops_list_parts(s3_req_t *r);
void ops_list_multipart_uploads(s3_req_t *r);
void ops_post_object(s3_req_t *r);
void ops_copy_object(s3_req_t *r);           /* ops_copy.c */
void ops_delete_objects(s3_req_t *r);        /* ops_delete.c */
void ops_object_tagging(s3_req_t *r);        /* ops_tagging.c: Get/Put/DeleteObjectTagging */
void ops_bucket_tagging(s3_req_t *r);        /* ops_tagging.c: Get/Put/DeleteBucketTagging */
void ops_bucket_config(s3_req_t *r);         /* ops_bucket_config.c: ownership controls, public access block */
void ops_list_object_versions(s3_req_t *r);  /* ops_list.c */
void ops_get_object_attributes(s3_req_t *r); /* ops_attributes.c */

#endif
