/* tests/unit/test_postpolicy.c -- POST policies: AWS's published examples, then tables of conditions.
 *
 * DESIGN: the known answers are AWS's own: the Signature Version 4 example
 * ("Example: Browser-Based Upload using HTTP POST") with its published
 * policy and signature, and the Signature Version 2 file-upload example
 * (HTTPPOSTExamples) whose published signature 0RavWz... is the HMAC-SHA1
 * under the example secret of AWS's older REST authentication pages. Each
 * example policy is also evaluated against the example's own form. The
 * condition tables write policies as plain JSON and base64-encode them here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "auth/postpolicy.h"
#include "auth/sigv4.h"

/* ---- AWS's Signature Version 4 example ---- */

#define V4_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define V4_CREDENTIAL "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
#define V4_SIGNATURE "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
static const char v4_policy[] = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2"
                                "tldCI6ICJzaWd2NGV4YW1wbGVidWNr"
                                "ZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcm"
                                "VhZCJ9LA0KICAgIHsic3VjY2Vzc19h"
                                "Y3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdX"
                                "Bsb2FkLmh0bWwifSwNCiAgICBbInN0"
                                "YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMj"
                                "M2NTEyNzQifSwNCiAgICB7IngtYW16"
                                "LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YW"
                                "ciLCAiIl0sDQoNCiAgICB7IngtYW16"
                                "LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA"
                                "0KICAgIHsieC1hbXotYWxnb3JpdGht"
                                "IjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";

/* ---- AWS's Signature Version 2 example ---- */

#define V2_SECRET "uV3F3YluFJax1cknvbcGwgjvx4QpvB+leU8dUj2o"
#define V2_SIGNATURE "0RavWzkygo6QX9caELEqKi9kDbU="
static const char v2_policy[] = "eyAiZXhwaXJhdGlvbiI6ICIyMDA3LTEyLTAxVDEyOjAwOjAwLjAwMFoiLAogICJjb25kaXRpb25zIjogWwogICAgeyJidWNrZX"
                                "QiOiAiam9obnNtaXRoIn0sCiAgICBb"
                                "InN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci9lcmljLyJdLAogICAgeyJhY2wiOiAicHVibGljLXJlYWQifSwKICAgIHsic3"
                                "VjY2Vzc19hY3Rpb25fcmVkaXJlY3Qi"
                                "OiAiaHR0cDovL2pvaG5zbWl0aC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwKICAgIFsic3Rhcn"
                                "RzLXdpdGgiLCAiJENvbnRlbnQtVHlw"
                                "ZSIsICJpbWFnZS8iXSwKICAgIHsieC1hbXotbWV0YS11dWlkIjogIjE0MzY1MTIzNjUxMjc0In0sCiAgICBbInN0YXJ0cy13aX"
                                "RoIiwgIiR4LWFtei1tZXRhLXRhZyIs"
                                "ICIiXQogIF0KfQo=";

#define F(name, value)                                                                                                             \
    {                                                                                                                              \
        name, sizeof(name) - 1, value, sizeof(value) - 1                                                                           \
    }

static time_t at(const char *iso)
{
    time_t t;
    assert_int_equal(postpolicy_parse_expiration(iso, strlen(iso), &t), 0);
    return t;
}

static postpolicy_status_t check(const char *policy, const postpolicy_field_t *fields, size_t num_fields, const char *bucket,
                                 time_t now, postpolicy_result_t *out)
{
    postpolicy_request_t req = {policy, strlen(policy), fields, num_fields, bucket, strlen(bucket), now};
    return postpolicy_check(&req, out);
}

static void test_v4_documented_signature(void **state)
{
    uint8_t key[SIGV4_KEY_LEN];
    char sig[65], upper[65], tampered[sizeof(v4_policy)];
    sigv4_auth_t auth;
    (void)state;

    assert_int_equal(postpolicy_parse_credential(V4_CREDENTIAL, strlen(V4_CREDENTIAL), &auth), 0);
    assert_string_equal(auth.access_key, "AKIAIOSFODNN7EXAMPLE");
    assert_string_equal(auth.date, "20151229");
    assert_string_equal(auth.region, "us-east-1");
    assert_string_equal(auth.service, "s3");
    sigv4_signing_key(V4_SECRET, strlen(V4_SECRET), auth.date, auth.region, auth.service, key);
    sigv4_sign(key, v4_policy, strlen(v4_policy), sig);
    assert_string_equal(sig, V4_SIGNATURE);

    assert_true(postpolicy_verify_v4(key, v4_policy, strlen(v4_policy), V4_SIGNATURE, 64));
    for (int i = 0; i < 64; i++)
        upper[i] = (char)(V4_SIGNATURE[i] >= 'a' ? V4_SIGNATURE[i] - 32 : V4_SIGNATURE[i]);
    assert_true(postpolicy_verify_v4(key, v4_policy, strlen(v4_policy), upper, 64));
    assert_false(postpolicy_verify_v4(key, v4_policy, strlen(v4_policy), V4_SIGNATURE, 63));
    assert_false(postpolicy_verify_v4(key, v4_policy, strlen(v4_policy), V4_SIGNATURE "0", 65));
    memcpy(sig, V4_SIGNATURE, 65);
    sig[10] = sig[10] == '0' ? '1' : '0';
    assert_false(postpolicy_verify_v4(key, v4_policy, strlen(v4_policy), sig, 64));
    memcpy(sig, V4_SIGNATURE, 65);
    sig[0] = 'g';
    assert_false(postpolicy_verify_v4(key, v4_policy, strlen(v4_policy), sig, 64));
    memcpy(tampered, v4_policy, sizeof(v4_policy));
    tampered[40] = tampered[40] == 'A' ? 'B' : 'A';
    assert_false(postpolicy_verify_v4(key, tampered, strlen(tampered), V4_SIGNATURE, 64));
    assert_false(postpolicy_verify_v4(key, v4_policy, strlen(v4_policy) - 1, V4_SIGNATURE, 64));
    /* another day's key does not verify */
    sigv4_signing_key(V4_SECRET, strlen(V4_SECRET), "20151230", auth.region, auth.service, key);
    assert_false(postpolicy_verify_v4(key, v4_policy, strlen(v4_policy), V4_SIGNATURE, 64));
}

/* The fields of AWS's V4 example form, after ${filename} became the file's name. */
static const postpolicy_field_t v4_form[] = {
    F("key", "user/user1/MyPhoto.jpg"),
    F("acl", "public-read"),
    F("success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"),
    F("Content-Type", "image/jpeg"),
    F("x-amz-meta-uuid", "14365123651274"),
    F("x-amz-server-side-encryption", "AES256"),
    F("X-Amz-Credential", V4_CREDENTIAL),
    F("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
    F("X-Amz-Date", "20151229T000000Z"),
    F("x-amz-meta-tag", ""),
    F("Policy", "(the policy)"),
    F("X-Amz-Signature", V4_SIGNATURE),
};
#define V4_FORM_LEN (sizeof(v4_form) / sizeof(v4_form[0]))

static void test_v4_documented_policy(void **state)
{
    postpolicy_result_t res;
    postpolicy_field_t form[V4_FORM_LEN + 1];
    (void)state;

    assert_int_equal(check(v4_policy, v4_form, V4_FORM_LEN, "sigv4examplebucket", at("2015-12-29T00:00:00Z"), &res), POSTPOLICY_OK);
    assert_false(res.has_length_range);
    assert_string_equal(res.message, "");
    /* valid until noon on the 30th, not a second more */
    assert_int_equal(check(v4_policy, v4_form, V4_FORM_LEN, "sigv4examplebucket", at("2015-12-30T11:59:59Z"), &res), POSTPOLICY_OK);
    assert_int_equal(check(v4_policy, v4_form, V4_FORM_LEN, "sigv4examplebucket", at("2015-12-30T12:00:00Z"), &res),
                     POSTPOLICY_EXPIRED);
    assert_string_equal(res.message, "Invalid according to Policy: Policy expired.");
    assert_int_equal(check(v4_policy, v4_form, V4_FORM_LEN, "otherbucket", at("2015-12-29T00:00:00Z"), &res),
                     POSTPOLICY_CONDITION_FAILED);
    assert_string_equal(res.message,
                        "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"sigv4examplebucket\"]");

    /* a field the policy does not name */
    memcpy(form, v4_form, sizeof(v4_form));
    form[V4_FORM_LEN] = (postpolicy_field_t)F("x-amz-storage-class", "STANDARD");
    assert_int_equal(check(v4_policy, form, V4_FORM_LEN + 1, "sigv4examplebucket", at("2015-12-29T00:00:00Z"), &res),
                     POSTPOLICY_EXTRA_FIELD);
    assert_string_equal(res.message, "Invalid according to Policy: Extra input fields: x-amz-storage-class");
    /* ... unless it asks to be ignored */
    form[V4_FORM_LEN] = (postpolicy_field_t)F("X-Ignore-Flash", "1");
    assert_int_equal(check(v4_policy, form, V4_FORM_LEN + 1, "sigv4examplebucket", at("2015-12-29T00:00:00Z"), &res),
                     POSTPOLICY_OK);
    /* a key outside user/user1/, and a Content-Type that is not an image */
    memcpy(form, v4_form, sizeof(v4_form));
    form[0] = (postpolicy_field_t)F("key", "user/user2/MyPhoto.jpg");
    assert_int_equal(check(v4_policy, form, V4_FORM_LEN, "sigv4examplebucket", at("2015-12-29T00:00:00Z"), &res),
                     POSTPOLICY_CONDITION_FAILED);
    assert_string_equal(res.message,
                        "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"user/user1/\"]");
    memcpy(form, v4_form, sizeof(v4_form));
    form[3] = (postpolicy_field_t)F("Content-Type", "image/jpeg,text/html");
    assert_int_equal(check(v4_policy, form, V4_FORM_LEN, "sigv4examplebucket", at("2015-12-29T00:00:00Z"), &res),
                     POSTPOLICY_CONDITION_FAILED);
    form[3] = (postpolicy_field_t)F("Content-Type", "image/jpeg,image/png");
    assert_int_equal(check(v4_policy, form, V4_FORM_LEN, "sigv4examplebucket", at("2015-12-29T00:00:00Z"), &res), POSTPOLICY_OK);
}

static void test_v2_documented_example(void **state)
{
    static const postpolicy_field_t form[] = {
        F("key", "user/eric/MyPicture.jpg"),
        F("acl", "public-read"),
        F("success_action_redirect", "http://johnsmith.s3.amazonaws.com/successful_upload.html"),
        F("Content-Type", "image/jpeg"),
        F("x-amz-meta-uuid", "14365123651274"),
        F("x-amz-meta-tag", "Some,Tag,For,Picture"),
        F("AWSAccessKeyId", "AKIAIOSFODNN7EXAMPLE"),
        F("Policy", "(the policy)"),
        F("Signature", V2_SIGNATURE),
    };
    postpolicy_result_t res;
    (void)state;

    assert_true(
        postpolicy_verify_v2(V2_SECRET, strlen(V2_SECRET), v2_policy, strlen(v2_policy), V2_SIGNATURE, strlen(V2_SIGNATURE)));
    assert_false(
        postpolicy_verify_v2(V4_SECRET, strlen(V4_SECRET), v2_policy, strlen(v2_policy), V2_SIGNATURE, strlen(V2_SIGNATURE)));
    assert_false(
        postpolicy_verify_v2(V2_SECRET, strlen(V2_SECRET), v2_policy, strlen(v2_policy) - 1, V2_SIGNATURE, strlen(V2_SIGNATURE)));
    assert_false(
        postpolicy_verify_v2(V2_SECRET, strlen(V2_SECRET), v2_policy, strlen(v2_policy), V2_SIGNATURE, strlen(V2_SIGNATURE) - 1));
    assert_false(
        postpolicy_verify_v2(V2_SECRET, strlen(V2_SECRET), v2_policy, strlen(v2_policy), "0RavWzkygo6QX9caELEqKi9kDbV=", 28));
    assert_false(postpolicy_verify_v2(V2_SECRET, strlen(V2_SECRET), v2_policy, strlen(v2_policy), "", 0));

    assert_int_equal(check(v2_policy, form, sizeof(form) / sizeof(form[0]), "johnsmith", at("2007-11-14T21:21:33Z"), &res),
                     POSTPOLICY_OK);
    assert_int_equal(check(v2_policy, form, sizeof(form) / sizeof(form[0]), "johnsmith", at("2007-12-02T00:00:00Z"), &res),
                     POSTPOLICY_EXPIRED);
}

/* ---- condition tables ---- */

typedef struct policy_case {
    const char *name;
    const char *json; /* encoded to base64 by the test; NULL: use raw_b64 */
    const char *raw_b64;
    postpolicy_field_t fields[6];
    const char *bucket;
    const char *now;
    postpolicy_status_t status;
    const char *message; /* exact when not NULL */
    int has_range;
    uint64_t min, max;
} policy_case_t;

#define EXP "\"expiration\": \"2030-01-01T00:00:00.000Z\""
#define NOW "2029-06-01T00:00:00Z"

static const policy_case_t policy_cases[] = {
    {.name = "exact match, object form",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"a/b\"}]}",
     .fields = {F("key", "a/b")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "exact match, eq form; names ignore case",
     .json = "{" EXP ", \"conditions\": [[\"eq\", \"$KEY\", \"a/b\"], [\"EQ\", \"$Content-Type\", \"text/plain\"]]}",
     .fields = {F("Key", "a/b"), F("content-type", "text/plain")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "exact match fails; values keep their case",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"A/b\"}]}",
     .fields = {F("key", "a/b")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_CONDITION_FAILED,
     .message = "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$key\", \"A/b\"]"},
    {.name = "several exact matches in one object",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"k\", \"acl\": \"private\"}]}",
     .fields = {F("key", "k"), F("acl", "public-read")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_CONDITION_FAILED,
     .message = "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$acl\", \"private\"]"},
    {.name = "starts-with",
     .json = "{" EXP ", \"conditions\": [[\"starts-with\", \"$key\", \"user/\"]]}",
     .fields = {F("key", "user/x")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "starts-with fails",
     .json = "{" EXP ", \"conditions\": [[\"starts-with\", \"$key\", \"user/\"]]}",
     .fields = {F("key", "users")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_CONDITION_FAILED,
     .message = "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"user/\"]"},
    {.name = "starts-with \"\" admits anything, even an absent field",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"k\"}, [\"starts-with\", \"$success_action_redirect\", \"\"]]}",
     .fields = {F("key", "k")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "an absent field is the empty string for eq",
     .json = "{" EXP ", \"conditions\": [[\"eq\", \"$acl\", \"\"], [\"eq\", \"$key\", \"k\"]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_CONDITION_FAILED,
     .message = "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$key\", \"k\"]"},
    {.name = "Content-Type starts-with applies to every listed type",
     .json = "{" EXP ", \"conditions\": [[\"starts-with\", \"$Content-Type\", \"image/\"]]}",
     .fields = {F("Content-Type", "image/jpg,image/png, image/gif")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "Content-Type list with one stranger",
     .json = "{" EXP ", \"conditions\": [[\"starts-with\", \"$Content-Type\", \"image/\"]]}",
     .fields = {F("Content-Type", "image/jpg,text/plain")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_CONDITION_FAILED},
    {.name = "commas mean nothing special elsewhere",
     .json = "{" EXP ", \"conditions\": [[\"starts-with\", \"$x-amz-meta-tag\", \"a\"]]}",
     .fields = {F("x-amz-meta-tag", "a,b")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "the first failing condition is reported",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"k\"}, {\"acl\": \"x\"}, [\"starts-with\", \"$key\", \"z\"]]}",
     .fields = {F("key", "k"), F("acl", "y")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_CONDITION_FAILED,
     .message = "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$acl\", \"x\"]"},
    {.name = "bucket is the bucket posted to, not a form field",
     .json = "{" EXP ", \"conditions\": [{\"bucket\": \"real\"}, {\"key\": \"k\"}]}",
     .fields = {F("key", "k"), F("bucket", "fake")},
     .bucket = "real",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "bucket mismatch",
     .json = "{" EXP ", \"conditions\": [[\"eq\", \"$bucket\", \"real\"]]}",
     .fields = {F("bucket", "real")},
     .bucket = "other",
     .now = NOW,
     .status = POSTPOLICY_CONDITION_FAILED,
     .message = "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"real\"]"},
    {.name = "content-length-range",
     .json = "{" EXP ", \"conditions\": [[\"content-length-range\", 1048576, 10485760]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK,
     .has_range = 1,
     .min = 1048576,
     .max = 10485760},
    {.name = "two ranges intersect; string bounds",
     .json = "{" EXP ", \"conditions\": [[\"content-length-range\", 10, 100], [\"content-length-range\", \"50\", \"1000\"]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK,
     .has_range = 1,
     .min = 50,
     .max = 100},
    {.name = "every field must be named",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"k\"}]}",
     .fields = {F("key", "k"), F("Content-Type", "a/b")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_EXTRA_FIELD,
     .message = "Invalid according to Policy: Extra input fields: Content-Type"},
    {.name = "a range names no field",
     .json = "{" EXP ", \"conditions\": [[\"content-length-range\", 0, 5]]}",
     .fields = {F("content-length-range", "1")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_EXTRA_FIELD},
    {.name = "exempt fields",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"k\"}]}",
     .fields = {F("key", "k"), F("Policy", "p"), F("X-Amz-Signature", "s"), F("signature", "s"), F("awsaccesskeyid", "a"),
                F("x-ignore-me", "")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "AWS's escapes \\$ and \\v",
     .json = "{" EXP ", \"conditions\": [[\"eq\", \"$key\", \"price\\$5\\vtab\"], {\"acl\": \"a\\\\$b\\\"\"}]}",
     .fields = {F("key", "price$5\vtab"), F("acl", "a\\$b\"")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "unicode escapes",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"caf\\u00e9/\\u65e5\"}]}",
     .fields = {F("key", "caf\xc3\xa9/\xe6\x97\xa5")},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "expiration without fractions",
     .json = "{\"expiration\": \"2029-06-01T00:00:01Z\", \"conditions\": []}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_OK},
    {.name = "expired",
     .json = "{\"expiration\": \"2029-06-01T00:00:00.999Z\", \"conditions\": []}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_EXPIRED,
     .message = "Invalid according to Policy: Policy expired."},
    {.name = "an invalid policy is invalid even when expired",
     .json = "{\"expiration\": \"2000-01-01T00:00:00Z\", \"conditions\": [[\"matches\", \"$key\", \"x\"]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID,
     .message = "Invalid Policy: Invalid Condition: unknown operation 'matches'."},
    {.name = "not base64",
     .raw_b64 = "@@@not base64@@@",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID,
     .message = "Invalid Policy: Invalid Base64 Encoding."},
    {.name = "not JSON",
     .json = "{" EXP ", \"conditions\": [}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID,
     .message = "Invalid Policy: Invalid JSON."},
    {.name = "trailing comma",
     .json = "{" EXP ", \"conditions\": [{\"key\": \"k\"},]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "not an object",
     .json = "[1, 2]",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID,
     .message = "Invalid Policy: Invalid JSON."},
    {.name = "duplicate member",
     .json = "{" EXP ", " EXP ", \"conditions\": []}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "no expiration",
     .json = "{\"conditions\": []}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID,
     .message = "Invalid Policy: Policy missing expiration."},
    {.name = "expiration not ISO 8601",
     .json = "{\"expiration\": \"Dec 1 2030\", \"conditions\": []}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID,
     .message = "Invalid Policy: Invalid 'expiration' value: 'Dec 1 2030'."},
    {.name = "expiration not a string",
     .json = "{\"expiration\": 1893456000, \"conditions\": []}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "expiration without Z",
     .json = "{\"expiration\": \"2030-01-01T00:00:00\", \"conditions\": []}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "no conditions",
     .json = "{" EXP "}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID,
     .message = "Invalid Policy: Policy missing conditions."},
    {.name = "conditions not a list",
     .json = "{" EXP ", \"conditions\": {\"key\": \"k\"}}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "simple condition with a number",
     .json = "{" EXP ", \"conditions\": [{\"success_action_status\": 201}]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "field name without $",
     .json = "{" EXP ", \"conditions\": [[\"eq\", \"key\", \"k\"]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "eq with two arguments",
     .json = "{" EXP ", \"conditions\": [[\"eq\", \"$key\"]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "starts-with on an exact-only field",
     .json = "{" EXP ", \"conditions\": [[\"starts-with\", \"$x-amz-date\", \"2029\"]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "negative range",
     .json = "{" EXP ", \"conditions\": [[\"content-length-range\", -1, 10]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "fractional range",
     .json = "{" EXP ", \"conditions\": [[\"content-length-range\", 0, 1.5]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "range with one bound",
     .json = "{" EXP ", \"conditions\": [[\"content-length-range\", 10]]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
    {.name = "a condition that is a string",
     .json = "{" EXP ", \"conditions\": [\"key\"]}",
     .fields = {{0}},
     .bucket = "bkt",
     .now = NOW,
     .status = POSTPOLICY_INVALID},
};

static void test_policy_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
        const policy_case_t *c = &policy_cases[i];
        char b64[2048];
        const char *policy = c->raw_b64;
        size_t num_fields = 0;
        postpolicy_result_t res;

        if (c->json != NULL) {
            assert_true(strlen(c->json) < sizeof(b64) / 4 * 3 - 4);
            EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)c->json, (int)strlen(c->json));
            policy = b64;
        }
        while (num_fields < 6 && c->fields[num_fields].name != NULL)
            num_fields++;
        postpolicy_status_t st = check(policy, c->fields, num_fields, c->bucket, at(c->now), &res);
        if (st != c->status)
            fail_msg("%s: status %d, want %d (%s)", c->name, st, c->status, res.message);
        if (c->message != NULL && strcmp(res.message, c->message) != 0)
            fail_msg("%s: message '%s', want '%s'", c->name, res.message, c->message);
        if (st != POSTPOLICY_OK && res.message[0] == '\0')
            fail_msg("%s: no message", c->name);
        if (st == POSTPOLICY_OK && (res.has_length_range != c->has_range || res.min_length != c->min || res.max_length != c->max))
            fail_msg("%s: range %d [%llu, %llu]", c->name, res.has_length_range, (unsigned long long)res.min_length,
                     (unsigned long long)res.max_length);
    }
}

/* A policy may arrive line-wrapped, as some encoders write base64. */
static void test_wrapped_base64(void **state)
{
    static const char json[] = "{" EXP ", \"conditions\": [{\"key\": \"a fairly long key name to wrap the encoding over lines\"}]}";
    static const postpolicy_field_t fields[] = {F("key", "a fairly long key name to wrap the encoding over lines")};
    char b64[512], wrapped[600];
    postpolicy_result_t res;
    size_t n = 0;
    (void)state;

    int len = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)json, (int)strlen(json));
    for (int i = 0; i < len; i++) {
        if (i != 0 && i % 40 == 0)
            wrapped[n++] = '\n';
        wrapped[n++] = b64[i];
    }
    wrapped[n] = '\0';
    assert_int_equal(check(wrapped, fields, 1, "b", at(NOW), &res), POSTPOLICY_OK);
}

static void test_exempt(void **state)
{
    static const char *const exempt[] = {
        "x-amz-signature", "X-Amz-Signature", "signature", "Signature",     "AWSAccessKeyId", "file",
        "policy",          "Policy",          "x-ignore-", "X-IGNORE-flash"};
    static const char *const named[] = {"key",    "x-amz-credential", "x-amz-date", "x-amz-algorithm",
                                        "bucket", "x-ignore",         "files",      ""};
    (void)state;
    for (size_t i = 0; i < sizeof(exempt) / sizeof(exempt[0]); i++)
        assert_true(postpolicy_field_exempt(exempt[i], strlen(exempt[i])));
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        assert_false(postpolicy_field_exempt(named[i], strlen(named[i])));
}

typedef struct time_case {
    const char *text;
    int ok;
    long long expect; /* seconds since the epoch */
} time_case_t;

static void test_times(void **state)
{
    static const time_case_t expirations[] = {
        {"2015-12-30T12:00:00.000Z", 1, 1451476800},
        {"2015-12-30T12:00:00Z", 1, 1451476800},
        {"2015-12-30T12:00:00.5Z", 1, 1451476800},
        {"2015-12-30T12:00:00.123456789Z", 1, 1451476800},
        {"2015-12-30T12:00:00.1234567890Z", 0, 0},
        {"2015-12-30T12:00:00.Z", 0, 0},
        {"2015-12-30 12:00:00Z", 0, 0},
        {"2015-13-30T12:00:00Z", 0, 0},
        {"2015-12-30T24:00:00Z", 0, 0},
        {"2015-12-30T12:00:00+01:00", 0, 0},
        {"20151230T120000Z", 0, 0},
        {"", 0, 0},
    };
    static const time_case_t amz_dates[] = {
        {"20151229T000000Z", 1, 1451347200}, {"20151229T000000", 0, 0},  {"2015-12-29T00:00:00Z", 0, 0},
        {"20151329T000000Z", 0, 0},          {"2015122aT000000Z", 0, 0}, {"", 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(expirations) / sizeof(expirations[0]); i++) {
        time_t t = 0;
        int rc = postpolicy_parse_expiration(expirations[i].text, strlen(expirations[i].text), &t);
        if ((rc == 0) != expirations[i].ok || (rc == 0 && (long long)t != expirations[i].expect))
            fail_msg("expiration '%s': rc %d, %lld", expirations[i].text, rc, (long long)t);
    }
    for (size_t i = 0; i < sizeof(amz_dates) / sizeof(amz_dates[0]); i++) {
        time_t t = 0;
        int rc = sigv4_parse_amz_date(amz_dates[i].text, strlen(amz_dates[i].text), &t);
        if ((rc == 0) != amz_dates[i].ok || (rc == 0 && (long long)t != amz_dates[i].expect))
            fail_msg("x-amz-date '%s': rc %d, %lld", amz_dates[i].text, rc, (long long)t);
    }
}

static void test_credentials(void **state)
{
    static const char *const bad[] = {
        "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3",
        "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/ec2/aws4_request",
        "AKIAIOSFODNN7EXAMPLE/2015122/us-east-1/s3/aws4_request",
        "AKIAIOSFODNN7EXAMPLE/2015122x/us-east-1/s3/aws4_request",
        "/20151229/us-east-1/s3/aws4_request",
        "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request/extra",
        "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws5_request",
        "",
    };
    sigv4_auth_t auth;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (postpolicy_parse_credential(bad[i], strlen(bad[i]), &auth) == 0)
            fail_msg("credential '%s' accepted", bad[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_documented_signature),
        cmocka_unit_test(test_v4_documented_policy),
        cmocka_unit_test(test_v2_documented_example),
        cmocka_unit_test(test_policy_table),
        cmocka_unit_test(test_wrapped_base64),
        cmocka_unit_test(test_exempt),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_credentials),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
