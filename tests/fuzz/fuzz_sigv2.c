/* tests/fuzz/fuzz_sigv2.c -- the SigV2 parsers and string to sign over hostile requests.
 *
 * DESIGN: the first byte chooses what the rest of the input is ('0'..'2', taken modulo 3):
 *   '0'  an Authorization header value "AWS AKID:signature" (sigv2_parse_authorization);
 *   '1'  a Date, x-amz-date, If-Modified-Since or If-Unmodified-Since value (sigv2_parse_http_date,
 *        which also reads the conditional headers);
 *   '2'  a whole request head, authenticated as server/auth_v2.c does it: the router finds the bucket
 *        (virtual-host style under the domain s3.coffer.test) and decodes the query; the Authorization
 *        header, or else the Signature and Expires query parameters, go to sigv2_verify under the secret
 *        of AWS's V2 examples; both forms of the string to sign are built into a large buffer and
 *        again into buffers of exactly their length and one byte less, which must agree and fail.
 * Header names reach the signer in the case they were sent: unlike SigV4's, its contract takes any.
 * Seeds: AWS's documented V2 examples (GET, PUT, list, upload with x-amz-meta headers, a query
 * string authentication URL) and botocore's V2 requests from tests/unit/test_sigv2.c, header and
 * presigned, path and virtual-host style; the date forms RFC 9110 names. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/sigv2.h"
#include "server/router.h"
#include "tests/fuzz/fuzz_input.h"

#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DOMAIN "s3.coffer.test"
#define STS_MAX (64 * 1024)

static void fuzz_authorization(fuzz_input_t *in)
{
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    sigv2_auth_t auth;
    if (sigv2_parse_authorization(value, len, &auth) == SIGV2_OK &&
        (strnlen(auth.access_key, sizeof(auth.access_key)) == sizeof(auth.access_key) ||
         strnlen(auth.signature, sizeof(auth.signature)) == sizeof(auth.signature)))
        abort();
    free(value);
}

static void fuzz_date(fuzz_input_t *in)
{
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    time_t when;
    sigv2_parse_http_date(value, len, &when);
    free(value);
}

/* Builds the string to sign into a large buffer, then into exact and short ones: they must agree. */
static void check_string_to_sign(const sigv2_request_t *req, sigv2_form_t form)
{
    char *big = malloc(STS_MAX);
    if (big == NULL)
        abort();
    long n = sigv2_string_to_sign(req, form, big, STS_MAX);
    if (n >= STS_MAX)
        abort();
    if (n >= 0) {
        char *exact = malloc((size_t)n + 1);
        if (exact == NULL)
            abort();
        if (big[n] != '\0' || sigv2_string_to_sign(req, form, exact, (size_t)n + 1) != n || memcmp(exact, big, (size_t)n + 1) != 0)
            abort();
        if (sigv2_string_to_sign(req, form, exact, (size_t)n) != -1)
            abort();
        free(exact);
    }
    free(big);
}

static void fuzz_request(fuzz_input_t *in)
{
    fuzz_head_t h;
    fuzz_head_read(in, 0, &h);

    const sigv4_header_t *authz = fuzz_head_find(&h, "authorization");
    const route_t *rt = fuzz_head_route(&h, DOMAIN);
    if (rt == NULL)
        goto Exit;

    sigv2_request_t req = {
        .method = h.method,
        .method_len = h.method_len,
        .bucket = rt->virtual_host ? rt->bucket : NULL,
        .bucket_len = rt->virtual_host ? rt->bucket_len : 0,
        .path = rt->raw_path,
        .path_len = rt->raw_path_len,
        .query = rt->raw_query,
        .query_len = rt->raw_query_len,
        .headers = h.headers,
        .num_headers = h.num_headers,
    };
    const char *signature;
    size_t signature_len;
    sigv2_auth_t auth;
    if (authz != NULL) {
        if (sigv2_parse_authorization(authz->value, authz->value_len, &auth) != SIGV2_OK)
            goto Exit;
        signature = auth.signature;
        signature_len = strlen(auth.signature);
    } else {
        if ((signature = route_param(rt, "Signature", &signature_len)) == NULL ||
            (req.expires = route_param(rt, "Expires", &req.expires_len)) == NULL)
            goto Exit;
    }
    check_string_to_sign(&req, SIGV2_FORM_AWS);
    check_string_to_sign(&req, SIGV2_FORM_BOTOCORE_AUTH_PATH);
    sigv2_verify(&req, SECRET_KEY, strlen(SECRET_KEY), signature, signature_len);
Exit:
    fuzz_head_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    switch (fuzz_byte(&in) % 3) {
    case 0:
        fuzz_authorization(&in);
        break;
    case 1:
        fuzz_date(&in);
        break;
    default:
        fuzz_request(&in);
        break;
    }
    return 0;
}
