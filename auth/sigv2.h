/* auth/sigv2.h -- AWS Signature Version 2 for S3 (HMAC-SHA1), as pure functions.
 *
 * DESIGN: like auth/sigv4.h, nothing here touches a socket, a clock or a
 * credential store. The caller hands in the request as it arrived (method,
 * raw path, raw query, headers) plus, for virtual-host-style requests, the
 * bucket named by the Host, and the secret; the string to sign is built into
 * a caller buffer and the signature compared in constant time. Older clients
 * (s3cmd --signature-v2, boto3 with signature_version='s3', V2 presigned
 * URLs) still sign this way.
 *
 * The string to sign is
 *     METHOD \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
 * where Date is empty when an x-amz-date header is present, and is the Expires
 * parameter for query-string (presigned) requests.
 */
#ifndef COFFER_SIGV2_H
#define COFFER_SIGV2_H

#include <stddef.h>
#include <time.h>

#include "auth/sigv4.h"

/** Length of a V2 signature: base64 of a 20-byte HMAC-SHA1. */
#define SIGV2_SIGNATURE_LEN 28

/** A request header as received; unlike SigV4's, the name may be in any case. */
typedef sigv4_header_t sigv2_header_t;

/** The request as it arrived on the wire. */
typedef struct sigv2_request {
    const char *method;
    size_t method_len;
    const char *bucket; /* virtual-host style: the bucket the Host names (resource gets "/bucket" in front); NULL or "" otherwise */
    size_t bucket_len;
    const char *path; /* raw path as sent, before '?', still percent-encoded; "" is taken as "/" */
    size_t path_len;
    const char *query; /* raw query after '?', without it; may be empty */
    size_t query_len;
    const sigv2_header_t *headers; /* all request headers (names in any case) */
    size_t num_headers;
    const char *expires; /* query-string form: the Expires parameter, which takes Date's place; NULL for the header form */
    size_t expires_len;
} sigv2_request_t;

/** The parts of an `Authorization: AWS AKID:signature` header. */
typedef struct sigv2_auth {
    char access_key[129];
    char signature[SIGV2_SIGNATURE_LEN + 1]; /* as sent: base64 */
} sigv2_auth_t;

typedef enum sigv2_status {
    SIGV2_OK = 0,
    SIGV2_MALFORMED, /* the Authorization header cannot be parsed */
    SIGV2_MISMATCH,  /* SignatureDoesNotMatch */
} sigv2_status_t;

/**
 * Parses an Authorization header value `AWS <AccessKeyId>:<Signature>`.
 * Returns SIGV2_OK, or SIGV2_MALFORMED when the prefix, the colon, the key or the
 * signature is missing, or either is too long or holds whitespace or control characters.
 */
sigv2_status_t sigv2_parse_authorization(const char *value, size_t value_len, sigv2_auth_t *out);

/**
 * Which rules build the CanonicalizedResource. SIGV2_FORM_AWS is AWS's; the other is a
 * client quirk accepted after it, so that the clients Coffer is tested with keep working.
 */
typedef enum sigv2_form {
    SIGV2_FORM_AWS = 0,
    /*
     * botocore 1.28+ (Debian 12 ships 1.29) signs with the operation's request URI as its
     * auth path, so an operation whose URI carries a query ("/{Bucket}?acl", "?uploads",
     * "?list-type=2", "?delete") signs that literal query once more in front of the
     * sub-resources ("/b?acl?acl", "/b/k?uploads?uploads", "/b?list-type=2"), and a bucket-level
     * one without the trailing '/'. The literal is the first item botocore sends, so this form
     * puts the first raw query item there. Not applicable (-1) to a request without a query.
     */
    SIGV2_FORM_BOTOCORE_AUTH_PATH,
} sigv2_form_t;

/**
 * Builds the string to sign into buf (NUL-terminated). Returns its length, or -1 when
 * buf_len is too small, a signed sub-resource or x-amz-* query value holds a bad percent
 * escape, there are more x-amz-* headers or sub-resources than it indexes (128 each), or
 * the form does not apply.
 *
 * CanonicalizedAmzHeaders: every x-amz-* header lower-cased and sorted by name, the values
 * of repeated names joined with ',' in arrival order, each value trimmed and its line folds
 * replaced by one space, each as `name:value\n`. For the query form, x-amz-* query
 * parameters count as headers too (botocore moves signed x-amz-* headers into the URL);
 * Content-MD5 and Content-Type always come from the headers, the ones the server acts on.
 * CanonicalizedResource: "/bucket" when req->bucket is set, then the raw path, where a
 * bucket-level request ends in '/' ("/bucket/", as AWS computes it); then the sub-resources
 * S3 signs (acl, uploadId, response-content-type, ...; matched after decoding) sorted by name,
 * as `?name` or `?name=decoded-value` (the '=' kept when it was sent), joined with '&'.
 */
long sigv2_string_to_sign(const sigv2_request_t *req, sigv2_form_t form, char *buf, size_t buf_len);

/** Base64 HMAC-SHA1 of a string to sign under secret; out gets 28 characters + NUL. */
void sigv2_sign(const char *secret, size_t secret_len, const char *string_to_sign, size_t len, char out[SIGV2_SIGNATURE_LEN + 1]);

/**
 * Verifies a request: string to sign -> signature, compared in constant time
 * (CRYPTO_memcmp) with signature, under SIGV2_FORM_AWS and then, for a request with a
 * query, SIGV2_FORM_BOTOCORE_AUTH_PATH. Returns SIGV2_OK or SIGV2_MISMATCH (also when a
 * string to sign exceeds 16 KiB or cannot be built). Checking the date or expiry against
 * the clock is the caller's job.
 */
sigv2_status_t sigv2_verify(const sigv2_request_t *req, const char *secret, size_t secret_len, const char *signature,
                            size_t signature_len);

/**
 * Parses an HTTP date as V2 clients send it in Date or x-amz-date: RFC 1123
 * ("Tue, 27 Mar 2007 19:36:42 GMT", also "+0000" or another numeric zone, the weekday
 * optional), RFC 850 ("Tuesday, 27-Mar-07 19:36:42 GMT"), asctime ("Tue Mar 27 19:36:42 2007"),
 * or ISO 8601 basic ("20070327T193642Z"). Returns 0 and the time in *out, or -1.
 */
int sigv2_parse_http_date(const char *s, size_t len, time_t *out);

#endif
