/* tests/fuzz/fuzz_postpolicy.c -- POST policy documents and the form fields they are checked against.
 *
 * DESIGN: the first byte chooses the form of the input ('0'..'2', taken modulo 3):
 *   '0'  a form and its policy as JSON: the bucket posted to, the time of the request (a policy
 *        expiration such as 2015-12-29T00:00:00Z), then "name:value" field lines up to an empty
 *        line, then the policy document, which the target base64-encodes as a browser form carries
 *        it, so mutations work on the JSON;
 *   '1'  the same, with the policy field as sent (base64 text, so the decoding is fuzzed too);
 *   '2'  the small parsers: a signature on the first line, then a value that is read as an
 *        x-amz-credential, an expiration, a field name (postpolicy_field_exempt) and a policy whose
 *        SigV4 and SigV2 signatures are checked against that first line.
 * postpolicy_check is called as server/ops_post.c calls it. Seeds: AWS's SigV4 and SigV2 example
 * policies with their example forms, and the condition kinds of tests/unit/test_postpolicy.c
 * (exact, eq, starts-with, content-length-range, AWS's \$ escape, $filename forms). Beyond the
 * sanitizers, the message must be a NUL-terminated string, empty exactly when the check passed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "auth/postpolicy.h"
#include "auth/sigv4.h"
#include "tests/fuzz/fuzz_input.h"

#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define MAX_FIELDS 64

static void fuzz_check(fuzz_input_t *in, int encode)
{
    size_t bucket_len, now_len, policy_len, num_fields = 0;
    const char *b = fuzz_line(in, &bucket_len), *n = fuzz_line(in, &now_len);
    char *bucket = fuzz_dup(b, bucket_len), *now_text = fuzz_dup(n, now_len);
    postpolicy_field_t fields[MAX_FIELDS];
    time_t now = 0;

    postpolicy_parse_expiration(now_text, now_len, &now);
    while (in->left != 0) {
        size_t len;
        const char *line = fuzz_line(in, &len);
        if (len == 0)
            break;
        const char *colon = memchr(line, ':', len);
        if (colon == NULL || num_fields == MAX_FIELDS)
            continue;
        fields[num_fields].name = fuzz_dup(line, (size_t)(colon - line));
        fields[num_fields].name_len = (size_t)(colon - line);
        fields[num_fields].value = fuzz_dup(colon + 1, (size_t)(line + len - colon - 1));
        fields[num_fields].value_len = (size_t)(line + len - colon - 1);
        num_fields++;
    }
    const char *p = fuzz_rest(in, &policy_len);
    char *policy;
    if (encode) {
        policy = malloc(4 * (policy_len / 3 + 1) + 1);
        if (policy == NULL)
            abort();
        policy_len = (size_t)EVP_EncodeBlock((unsigned char *)policy, (const unsigned char *)p, (int)policy_len);
    } else {
        policy = fuzz_dup(p, policy_len);
    }

    postpolicy_request_t req = {policy, policy_len, fields, num_fields, bucket, bucket_len, now};
    postpolicy_result_t *res = malloc(sizeof(*res));
    if (res == NULL)
        abort();
    postpolicy_status_t st = postpolicy_check(&req, res);
    size_t msg_len = strnlen(res->message, sizeof(res->message));
    if (msg_len == sizeof(res->message) || (st == POSTPOLICY_OK) != (msg_len == 0))
        abort();

    free(res);
    free(policy);
    for (size_t i = 0; i < num_fields; i++) {
        free((char *)fields[i].name);
        free((char *)fields[i].value);
    }
    free(now_text);
    free(bucket);
}

static void fuzz_values(fuzz_input_t *in)
{
    size_t sig_len, len;
    const char *s = fuzz_line(in, &sig_len), *v = fuzz_rest(in, &len);
    char *sig = fuzz_dup(s, sig_len), *value = fuzz_dup(v, len);
    sigv4_auth_t auth;
    time_t when;
    uint8_t key[SIGV4_KEY_LEN];

    if (postpolicy_parse_credential(value, len, &auth) == 0)
        sigv4_signing_key(SECRET_KEY, strlen(SECRET_KEY), auth.date, auth.region, auth.service, key);
    else
        sigv4_signing_key(SECRET_KEY, strlen(SECRET_KEY), "20151229", "us-east-1", "s3", key);
    postpolicy_parse_expiration(value, len, &when);
    postpolicy_field_exempt(value, len);
    postpolicy_verify_v4(key, value, len, sig, sig_len);
    postpolicy_verify_v2(SECRET_KEY, strlen(SECRET_KEY), value, len, sig, sig_len);
    free(value);
    free(sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    switch (fuzz_byte(&in) % 3) {
    case 0:
        fuzz_check(&in, 1);
        break;
    case 1:
        fuzz_check(&in, 0);
        break;
    default:
        fuzz_values(&in);
        break;
    }
    return 0;
}
