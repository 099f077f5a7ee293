/* server/acl.h -- S3 access control lists: canned ACLs, x-amz-grant-* headers, the
 * AccessControlPolicy document, a compact stored form, and the permission check.
 *
 * DESIGN: an ACL is one plain struct (an owner and up to 100 grants, each one grantee and
 * one permission, as S3 lists them) that every input form builds and every output form
 * reads. Everything here is pure: users are looked up through a caller-supplied resolver,
 * request headers through a caller-supplied getter, so the module is table-tested without
 * a server or a store. Errors come back as a small enum of their own (acl_err_t), which
 * authz_acl_error (server/authz.h) turns into the server's S3 errors. */
#ifndef COFFER_ACL_H
#define COFFER_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "server/xml.h"

/* Permission bits. A grant carries exactly one of the five values below (FULL_CONTROL is all four bits). */
enum { ACL_READ = 1, ACL_WRITE = 2, ACL_READ_ACP = 4, ACL_WRITE_ACP = 8, ACL_FULL_CONTROL = 15 };

typedef enum acl_grantee_type {
    ACL_GRANTEE_USER,                /* CanonicalUser: id (and display_name) */
    ACL_GRANTEE_ALL_USERS,           /* Group http://acs.amazonaws.com/groups/global/AllUsers */
    ACL_GRANTEE_AUTHENTICATED_USERS, /* Group http://acs.amazonaws.com/groups/global/AuthenticatedUsers */
    ACL_GRANTEE_LOG_DELIVERY,        /* Group http://acs.amazonaws.com/groups/s3/LogDelivery */
} acl_grantee_type_t;

#define ACL_MAX_GRANTS 100 /* AWS's limit */
#define ACL_ID_MAX 64      /* a canonical user id's characters */
#define ACL_NAME_MAX 64    /* a display name's bytes: a user's name, all of it */

#define ACL_URI_ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define ACL_URI_AUTHENTICATED_USERS "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define ACL_URI_LOG_DELIVERY "http://acs.amazonaws.com/groups/s3/LogDelivery"

/** The canned-ACL header, and the grant headers in the order acl_from_grant_headers lists their grants. */
#define ACL_HEADER_CANNED "x-amz-acl"
#define ACL_HEADER_GRANT_READ "x-amz-grant-read"
#define ACL_HEADER_GRANT_WRITE "x-amz-grant-write"
#define ACL_HEADER_GRANT_READ_ACP "x-amz-grant-read-acp"
#define ACL_HEADER_GRANT_WRITE_ACP "x-amz-grant-write-acp"
#define ACL_HEADER_GRANT_FULL_CONTROL "x-amz-grant-full-control"

/** The largest AccessControlPolicy body read (100 grants in a generous layout fit many times over). */
#define ACL_DOC_MAX (256 * 1024)

typedef struct acl_grant {
    acl_grantee_type_t type;
    char id[ACL_ID_MAX + 1];             /* ACL_GRANTEE_USER only, else "" */
    char display_name[ACL_NAME_MAX + 1]; /* ACL_GRANTEE_USER only; may be "" */
    unsigned perm;                       /* one of ACL_READ ... ACL_FULL_CONTROL */
} acl_grant_t;

typedef struct acl {
    char owner_id[ACL_ID_MAX + 1];
    char owner_name[ACL_NAME_MAX + 1];
    size_t num_grants;
    acl_grant_t grants[ACL_MAX_GRANTS];
} acl_t;

typedef enum acl_err {
    ACL_OK = 0,
    ACL_ERR_MALFORMED,          /* 400 MalformedACLError: not well-formed, or not the schema's shape */
    ACL_ERR_INVALID_ARGUMENT,   /* 400 InvalidArgument: an unknown id or group, a malformed grant header, a bad canned name */
    ACL_ERR_UNRESOLVABLE_EMAIL, /* 400 UnresolvableGrantByEmailAddress */
    ACL_ERR_ACCESS_DENIED,      /* 403 AccessDenied: the document names another Owner (an owner cannot be given away) */
    ACL_ERR_INVALID_REQUEST,    /* 400 InvalidRequest: x-amz-acl together with x-amz-grant-* */
} acl_err_t;

/**
 * Resolves a grantee named by canonical id (kind 'i') or e-mail address (kind 'e'); value is
 * value_len bytes, not necessarily NUL-terminated. Returns 0 with id and name filled
 * (NUL-terminated, name may be ""), or -ENOENT.
 */
typedef int (*acl_resolve_fn)(void *ctx, char kind, const char *value, size_t value_len, char id[ACL_ID_MAX + 1],
                              char name[ACL_NAME_MAX + 1]);

/** Returns a request header's value (name lower-case) and its length in *len, or NULL when absent. */
typedef const char *(*acl_header_fn)(void *ctx, const char *name, size_t *len);

/**
 * Builds the ACL a canned name gives: private, public-read, public-read-write, authenticated-read,
 * aws-exec-read, bucket-owner-read, bucket-owner-full-control, log-delivery-write (exact,
 * case-sensitive). The owner's FULL_CONTROL grant comes first, then, as AWS lists them:
 * public-read AllUsers READ; public-read-write AllUsers READ and WRITE; authenticated-read
 * AuthenticatedUsers READ; aws-exec-read EC2's canonical user (za-team) READ;
 * log-delivery-write LogDelivery WRITE and READ_ACP; bucket-owner-read / -full-control the
 * bucket owner READ / FULL_CONTROL. Those two give nothing more when bucket_owner_id is NULL
 * (a bucket: AWS ignores them there) or is the owner. Names may be NULL (""). Returns 0, or
 * -EINVAL for an unknown name (out untouched).
 */
int acl_canned(const char *name, size_t name_len, const char *owner_id, const char *owner_name, const char *bucket_owner_id,
               const char *bucket_owner_name, acl_t *out);

/**
 * Builds an ACL from the x-amz-grant-read, -write, -read-acp, -write-acp and -full-control
 * headers. Each value is a comma-separated list of grantees, key=value with the key
 * case-insensitive (id, emailAddress, uri), the value in double quotes or bare, spaces and
 * tabs allowed around items, keys and '='. Grants are listed header by header in that order,
 * each header's grantees in their order; as AWS, the owner (owner_id / owner_name, written as
 * the Owner) gets no grant of its own. Returns ACL_OK with *none = 0; ACL_OK with *none = 1
 * and out untouched when no grant header is present; or with *message set to a static text:
 * ACL_ERR_INVALID_ARGUMENT (an empty or malformed value, an unknown key or group uri, an id
 * the resolver does not know, more than ACL_MAX_GRANTS grants), ACL_ERR_UNRESOLVABLE_EMAIL.
 * resolve may be NULL: then any id up to 64 characters is taken (display name "") and no
 * e-mail address resolves. EC2's canonical id (what aws-exec-read grants) is always taken, as
 * "za-team", so an ACL read back from GetObjectAcl can be put again. On an error out is undefined.
 */
acl_err_t acl_from_grant_headers(acl_header_fn header, void *header_ctx, acl_resolve_fn resolve, void *resolve_ctx,
                                 const char *owner_id, const char *owner_name, acl_t *out, int *none, const char **message);

/**
 * The ACL a create or put request asks for through headers: x-amz-acl (acl_canned; an unknown
 * name is ACL_ERR_INVALID_ARGUMENT) or x-amz-grant-* (acl_from_grant_headers); both at once is
 * ACL_ERR_INVALID_REQUEST, as AWS. Returns as acl_from_grant_headers (*none = 1 when neither
 * is present: the caller applies its default, private).
 */
acl_err_t acl_from_headers(acl_header_fn header, void *header_ctx, acl_resolve_fn resolve, void *resolve_ctx, const char *owner_id,
                           const char *owner_name, const char *bucket_owner_id, const char *bucket_owner_name, acl_t *out,
                           int *none, const char **message);

/**
 * Parses an AccessControlPolicy document (PutBucketAcl / PutObjectAcl body; with or without the
 * S3 namespace): exactly one Owner (exactly one ID, at most one DisplayName) and one
 * AccessControlList of 0..ACL_MAX_GRANTS Grants, each exactly one Grantee and one Permission
 * (FULL_CONTROL, READ, WRITE, READ_ACP, WRITE_ACP), each Grantee with an xsi:type attribute
 * (namespace http://www.w3.org/2001/XMLSchema-instance) of CanonicalUser (needs ID),
 * AmazonCustomerByEmail (needs EmailAddress) or Group (needs URI), and at most one each of
 * ID, DisplayName, EmailAddress, URI, all text only. A given DisplayName is ignored: names come
 * from the resolver. E-mail grantees become CanonicalUser grants. Grants keep document order.
 * Errors in that order of precedence, with *message set: ACL_ERR_MALFORMED (not well-formed,
 * a DTD, over ACL_DOC_MAX, any breach of the shape above, anywhere in the document), then
 * ACL_ERR_ACCESS_DENIED (Owner/ID is not expected_owner_id; NULL skips the check), then, grant
 * by grant, ACL_ERR_INVALID_ARGUMENT (an unknown id or one over 64 characters, an unknown group
 * URI, with expected_owner_id NULL an Owner/ID the resolver does not know) or
 * ACL_ERR_UNRESOLVABLE_EMAIL. resolve may be NULL as for acl_from_grant_headers. The owner's
 * display name is resolved from its id ("" when that fails). On an error out is undefined.
 */
acl_err_t acl_parse_xml(const char *body, size_t len, const char *expected_owner_id, acl_resolve_fn resolve, void *ctx, acl_t *out,
                        const char **message);

/**
 * Writes <AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"> with Owner
 * (ID, DisplayName) and AccessControlList; each Grantee carries xmlns:xsi and xsi:type as AWS
 * writes them (CanonicalUser: ID and DisplayName; Group: URI). An empty DisplayName is left out.
 */
void acl_write_xml(xmlw_t *w, const acl_t *acl);

/** The largest encoding of an ACL: a buffer this size always suffices for acl_encode. */
#define ACL_ENCODED_MAX (1 + 2 * 1 + ACL_ID_MAX + ACL_NAME_MAX + 1 + ACL_MAX_GRANTS * (2 + 2 * 1 + ACL_ID_MAX + ACL_NAME_MAX))

/**
 * Encodes acl for the metadata store (version byte 1, then length-prefixed owner id and name,
 * the grant count, and per grant its type, permission and, for a user, id and name). Writes
 * into buf only when buf_len is enough; returns the length needed either way.
 */
size_t acl_encode(const acl_t *acl, uint8_t *buf, size_t buf_len);

/**
 * Decodes what acl_encode wrote. Returns 0, or -EINVAL for anything else: an unknown version,
 * a cut or overlong record, an id or name too long or holding a NUL, a user grant with an
 * empty id or a group grant with one, an unknown type, a permission that is not one of the
 * five, more than ACL_MAX_GRANTS grants, trailing bytes.
 */
int acl_decode(const uint8_t *buf, size_t len, acl_t *out);

/**
 * Reads only the owner's id of what acl_encode wrote (what a listing shows of an object's ACL),
 * without the grants. Returns 0, or -EINVAL for an unknown version or a cut or bad id.
 */
int acl_decode_owner(const uint8_t *buf, size_t len, char owner_id[ACL_ID_MAX + 1]);

/**
 * The permission bits acl grants a requester: requester_id NULL is anonymous (AllUsers grants
 * only); an authenticated requester gets AllUsers, AuthenticatedUsers and its own CanonicalUser
 * grants. LogDelivery grants apply to no requester. The owner is not implicitly granted
 * anything here: owner rights are the caller's to add.
 */
unsigned acl_permissions(const acl_t *acl, const char *requester_id);

/** As acl_permissions, counting only CanonicalUser grants: what PublicAccessBlock's IgnorePublicAcls leaves. */
unsigned acl_private_permissions(const acl_t *acl, const char *requester_id);

/** Whether acl grants anything to AllUsers or AuthenticatedUsers (PublicAccessBlock's public ACL). */
int acl_is_public(const acl_t *acl);

/** A permission's name in S3 documents ("READ_ACP"), or NULL for a value that is not one of the five. */
const char *acl_perm_name(unsigned perm);

#endif
