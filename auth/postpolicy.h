/* auth/postpolicy.h -- POST policies of browser-form uploads (PostObject): signatures and conditions, as pure functions.
 *
 * DESIGN: a form upload carries its own authorization: a base64 JSON policy
 * (an expiration and a list of conditions on the form's fields), signed with
 * SigV4 (x-amz-credential, x-amz-date, x-amz-signature: hex HMAC-SHA256 of
 * the base64 text under the date- and region-scoped signing key) or SigV2
 * (AWSAccessKeyId, signature: base64 HMAC-SHA1 of the base64 text under the
 * secret). Nothing here reads a clock, a socket or a credential store: the
 * caller passes the time, the form's fields and the signing key or secret.
 */
#ifndef COFFER_POSTPOLICY_H
#define COFFER_POSTPOLICY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/sigv4.h"

/** A form field as the policy sees it: names compare ASCII case-insensitively. */
typedef struct postpolicy_field {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} postpolicy_field_t;

typedef struct postpolicy_request {
    const char *policy; /* the policy field: base64 as sent */
    size_t policy_len;
    const postpolicy_field_t *fields; /* the form's fields before the file, ${filename} expanded, one entry per name */
    size_t num_fields;
    const char *bucket; /* the bucket posted to: what "bucket" conditions are checked against */
    size_t bucket_len;
    time_t now;
} postpolicy_request_t;

typedef enum postpolicy_status {
    POSTPOLICY_OK = 0,
    POSTPOLICY_INVALID,          /* InvalidPolicyDocument: not base64, not JSON, or not the shape of a policy */
    POSTPOLICY_EXPIRED,          /* AccessDenied: the expiration has passed */
    POSTPOLICY_CONDITION_FAILED, /* AccessDenied: a field does not meet a condition */
    POSTPOLICY_EXTRA_FIELD,      /* AccessDenied: a field no condition names */
} postpolicy_status_t;

#define POSTPOLICY_MESSAGE_MAX 512

typedef struct postpolicy_result {
    int has_length_range; /* the policy holds content-length-range: the file's size must be in [min_length, max_length] */
    uint64_t min_length;
    uint64_t max_length;
    char message[POSTPOLICY_MESSAGE_MAX]; /* AWS's message for any status but POSTPOLICY_OK */
} postpolicy_result_t;

/**
 * Decodes and checks a policy against a form: the expiration against req->now, then every
 * condition in order ({"field": "value"}, ["eq", "$field", "value"], ["starts-with", "$field",
 * "prefix"], ["content-length-range", min, max]), then that every field not exempt (see
 * postpolicy_field_exempt) is named by some condition. A field the form lacks has the value "".
 * The size range is left to the caller, who learns the file's size later (out->has_length_range).
 * Returns the status, with AWS's message in out->message when it is not POSTPOLICY_OK.
 */
postpolicy_status_t postpolicy_check(const postpolicy_request_t *req, postpolicy_result_t *out);

/** Whether a form field needs no condition: x-amz-signature, signature, AWSAccessKeyId, file, policy, x-ignore-*. */
int postpolicy_field_exempt(const char *name, size_t name_len);

/** SigV4: whether signature (64 hex digits, either case) is the HMAC-SHA256 of the base64 policy under key. Constant time. */
int postpolicy_verify_v4(const uint8_t key[SIGV4_KEY_LEN], const char *policy, size_t policy_len, const char *signature,
                         size_t signature_len);

/** SigV2: whether signature is the base64 HMAC-SHA1 of the base64 policy under secret. Constant time. */
int postpolicy_verify_v2(const char *secret, size_t secret_len, const char *policy, size_t policy_len, const char *signature,
                         size_t signature_len);

/** Parses an x-amz-credential value ("AKID/YYYYMMDD/region/s3/aws4_request") into auth's key and scope. Returns 0 or -1. */
int postpolicy_parse_credential(const char *credential, size_t len, sigv4_auth_t *auth);

/** Parses a policy's expiration ("YYYY-MM-DDTHH:MM:SS[.fff]Z", UTC; fractions of a second dropped). Returns 0 or -1. */
int postpolicy_parse_expiration(const char *s, size_t len, time_t *out);

#endif
