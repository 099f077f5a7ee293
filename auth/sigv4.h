/* auth/sigv4.h -- AWS Signature Version 4 for S3, as pure functions.
 *
 * DESIGN: nothing here touches a socket, a clock or a credential store: the
 * caller hands in the request as plain strings and the secret (or a cached
 * signing key), so every step can be table-tested against vectors produced by
 * botocore's signer. The canonical request follows AWS's rules for S3: the
 * path is not normalized ('.', '..', '//' are kept), it is URI-encoded once
 * per segment with S3's rules ('/' kept), the query is decoded, re-encoded and
 * sorted, and headers are lower-cased with runs of spaces folded.
 */
#ifndef COFFER_SIGV4_H
#define COFFER_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SIGV4_KEY_LEN 32

/** A request header; name must be lower-case. */
typedef struct sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} sigv4_header_t;

/** The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header. */
typedef struct sigv4_auth {
    char access_key[129];
    char date[9]; /* YYYYMMDD from the credential scope */
    char region[64];
    char service[32];          /* must be "s3" */
    char signed_headers[4096]; /* "host;x-amz-content-sha256;x-amz-date", as sent (lower-case, ';'-separated, sorted);
                                  room for the 2 KB of metadata names S3 accepts, each with its x-amz-meta- */
    char signature[65];        /* lower-case hex */
} sigv4_auth_t;

/** The request as it arrived on the wire. */
typedef struct sigv4_request {
    const char *method;
    size_t method_len;
    const char *path; /* raw path as sent, before '?', still percent-encoded */
    size_t path_len;
    const char *query; /* raw query after '?', without it; may be empty */
    size_t query_len;
    const sigv4_header_t *headers; /* all request headers (Host included) */
    size_t num_headers;
    const char *payload_hash; /* the x-amz-content-sha256 value (hex, UNSIGNED-PAYLOAD, STREAMING-...) */
    size_t payload_hash_len;
    const char *amz_date; /* "YYYYMMDDTHHMMSSZ" from x-amz-date or X-Amz-Date (or Date converted by the caller) */
    size_t amz_date_len;
    int presigned; /* query-string auth: X-Amz-Signature is left out of the canonical query */
} sigv4_request_t;

#define SIGV4_QUERY_SIGNATURE "X-Amz-Signature"

typedef enum sigv4_status {
    SIGV4_OK = 0,
    SIGV4_MALFORMED,      /* the Authorization header cannot be parsed (AuthorizationHeaderMalformed) */
    SIGV4_MISMATCH,       /* SignatureDoesNotMatch */
    SIGV4_MISSING_HEADER, /* a header named in SignedHeaders is absent, or host is not signed */
} sigv4_status_t;

/** Parses an Authorization header value. Returns SIGV4_OK or SIGV4_MALFORMED. */
sigv4_status_t sigv4_parse_authorization(const char *value, size_t value_len, sigv4_auth_t *out);

/**
 * Fills auth from a presigned URL's decoded X-Amz-Credential, X-Amz-SignedHeaders and
 * X-Amz-Signature values (the same rules as the header's fields). Returns SIGV4_OK or SIGV4_MALFORMED.
 */
sigv4_status_t sigv4_parse_presigned(const char *credential, size_t credential_len, const char *signed_headers,
                                     size_t signed_headers_len, const char *signature, size_t signature_len, sigv4_auth_t *out);

/**
 * Builds the canonical request into buf (NUL-terminated). Returns its length,
 * or -1 when buf_len is too small, a signed header is missing, the path or query
 * holds a bad percent escape, or the query has more than 256 parameters.
 */
long sigv4_canonical_request(const sigv4_request_t *req, const sigv4_auth_t *auth, char *buf, size_t buf_len);

/** Builds the string to sign for a canonical request. Returns its length or -1 when buf is too small. */
long sigv4_string_to_sign(const char *amz_date, const sigv4_auth_t *auth, const char *canonical_request, size_t canonical_len,
                          char *buf, size_t buf_len);

/** Derives the signing key HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"). */
void sigv4_signing_key(const char *secret, size_t secret_len, const char *date, const char *region, const char *service,
                       uint8_t out[SIGV4_KEY_LEN]);

/** Hex HMAC-SHA256 of a string to sign under a signing key; out gets 64 hex chars + NUL. */
void sigv4_sign(const uint8_t key[SIGV4_KEY_LEN], const char *string_to_sign, size_t len, char out[65]);

/**
 * Verifies a header-signed request: canonical request -> string to sign -> signature,
 * compared in constant time (CRYPTO_memcmp) with auth->signature.
 * Returns SIGV4_OK, SIGV4_MISMATCH or SIGV4_MISSING_HEADER. A request whose canonical
 * form exceeds 16 KiB, or that sigv4_canonical_request rejects otherwise, is a mismatch.
 * Checking the clock skew and that amz_date's day matches auth->date is the caller's job.
 */
sigv4_status_t sigv4_verify(const sigv4_request_t *req, const sigv4_auth_t *auth, const uint8_t key[SIGV4_KEY_LEN]);

/** The value of a hex digit (either case), or -1. */
int sigv4_hex_digit(int c);

/** Parses an x-amz-date value ("YYYYMMDDTHHMMSSZ", UTC) into seconds since the epoch. Returns 0 or -1. */
int sigv4_parse_amz_date(const char *s, size_t len, time_t *out);

/** Lower-case hex SHA-256 of data; out gets 64 hex chars + NUL. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/**
 * S3 URI-encoding of src into dst: unreserved characters (A-Z a-z 0-9 - . _ ~) kept,
 * '/' kept when keep_slash, everything else %XX upper-case. Returns the length written
 * (dst needs 3 * src_len + 1 bytes); dst is NUL-terminated.
 */
size_t sigv4_uri_encode(const char *src, size_t src_len, int keep_slash, char *dst);

/** Percent-decodes src into dst (dst needs src_len + 1 bytes); '+' is kept as '+'. Returns the length, or -1 on a bad escape. */
long sigv4_uri_decode(const char *src, size_t src_len, char *dst);

#endif
