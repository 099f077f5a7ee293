/* tests/fuzz/fuzz_sigv4.c -- the SigV4 parsers and the canonical request over hostile requests.
 *
 * DESIGN: the first byte chooses what the rest of the input is ('0'..'3', taken modulo 4):
 *   '0'  an Authorization header value (sigv4_parse_authorization);
 *   '1'  a presigned URL's decoded X-Amz-Credential, X-Amz-SignedHeaders and X-Amz-Signature, one per
 *        line (sigv4_parse_presigned);
 *   '2'  one header or query value for the small parsers: x-amz-date (sigv4_parse_amz_date),
 *        x-amz-content-sha256 (chunked_mode_from_content_sha256), percent-decoding, and the round
 *        trip decode(encode(v)) == v that the canonical URI rests on;
 *   '3'  a whole request head ("PUT /bkt/key?q HTTP/1.1", then headers), authenticated as the server
 *        does it: the router splits the target and decodes the query, the Authorization header or
 *        the presigned query is parsed, then sigv4_canonical_request, sigv4_string_to_sign and
 *        sigv4_verify run under the signing key of AWS's example secret for the credential's scope.
 * Seeds: the Authorization headers and requests of tests/unit/sigv4_vectors.h (signed by botocore,
 * so their signatures verify), presigned URLs, AWS's documented examples. The canonical request is
 * built once into a large buffer and again into buffers of exactly its length and one byte less:
 * the results must agree, the short one must fail, and AddressSanitizer watches every write. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/chunked.h"
#include "auth/sigv4.h"
#include "server/router.h"
#include "tests/fuzz/fuzz_input.h"

#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define CANONICAL_MAX (64 * 1024)

static void check_auth(const sigv4_auth_t *a)
{
    if (strnlen(a->access_key, sizeof(a->access_key)) == sizeof(a->access_key) || strnlen(a->date, sizeof(a->date)) != 8 ||
        strnlen(a->region, sizeof(a->region)) == sizeof(a->region) ||
        strnlen(a->service, sizeof(a->service)) == sizeof(a->service) ||
        strnlen(a->signed_headers, sizeof(a->signed_headers)) == sizeof(a->signed_headers) ||
        strnlen(a->signature, sizeof(a->signature)) != 64)
        abort();
}

static void fuzz_authorization(fuzz_input_t *in)
{
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    sigv4_auth_t auth;
    if (sigv4_parse_authorization(value, len, &auth) == SIGV4_OK)
        check_auth(&auth);
    free(value);
}

static void fuzz_presigned(fuzz_input_t *in)
{
    size_t cred_len, sh_len, sig_len;
    const char *c = fuzz_line(in, &cred_len), *s = fuzz_line(in, &sh_len), *g = fuzz_rest(in, &sig_len);
    char *cred = fuzz_dup(c, cred_len), *sh = fuzz_dup(s, sh_len), *sig = fuzz_dup(g, sig_len);
    sigv4_auth_t auth;
    if (sigv4_parse_presigned(cred, cred_len, sh, sh_len, sig, sig_len, &auth) == SIGV4_OK)
        check_auth(&auth);
    free(cred);
    free(sh);
    free(sig);
}

static void fuzz_values(fuzz_input_t *in)
{
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    time_t when;
    chunked_mode_t mode;

    sigv4_parse_amz_date(value, len, &when);
    chunked_mode_from_content_sha256(value, len, &mode);

    char *decoded = malloc(len + 1), *encoded = malloc(3 * len + 1), *again = malloc(3 * len + 1);
    if (decoded == NULL || encoded == NULL || again == NULL)
        abort();
    long n = sigv4_uri_decode(value, len, decoded);
    if (n > (long)len)
        abort();
    for (int keep_slash = 0; keep_slash <= 1; keep_slash++) {
        size_t e = sigv4_uri_encode(value, len, keep_slash, encoded);
        if (e > 3 * len || encoded[e] != '\0')
            abort();
        long d = sigv4_uri_decode(encoded, e, again);
        if (d != (long)len || memcmp(again, value, len) != 0)
            abort();
    }
    free(again);
    free(encoded);
    free(decoded);
    free(value);
}

/* Builds the canonical request into a large buffer, then into exact and short ones: they must agree. */
static void check_canonical(const sigv4_request_t *req, const sigv4_auth_t *auth)
{
    char *big = malloc(CANONICAL_MAX);
    if (big == NULL)
        abort();
    long n = sigv4_canonical_request(req, auth, big, CANONICAL_MAX);
    if (n >= CANONICAL_MAX)
        abort();
    if (n >= 0) {
        char *exact = malloc((size_t)n + 1), *sts = malloc(4096);
        if (exact == NULL || sts == NULL)
            abort();
        if (big[n] != '\0' || sigv4_canonical_request(req, auth, exact, (size_t)n + 1) != n ||
            memcmp(exact, big, (size_t)n + 1) != 0)
            abort();
        if (sigv4_canonical_request(req, auth, exact, (size_t)n) != -1)
            abort();
        char *date = fuzz_strdup(req->amz_date, req->amz_date_len); /* sigv4_string_to_sign takes a C string */
        long s = sigv4_string_to_sign(date, auth, big, (size_t)n, sts, 4096);
        if (s >= 4096 || (s >= 0 && sts[s] != '\0'))
            abort();
        free(date);
        free(sts);
        free(exact);
    }
    free(big);
}

static void fuzz_request(fuzz_input_t *in)
{
    fuzz_head_t h;
    fuzz_head_read(in, 1, &h);

    const sigv4_header_t *authz = fuzz_head_find(&h, "authorization");
    const sigv4_header_t *date_h = fuzz_head_find(&h, "x-amz-date"), *hash_h = fuzz_head_find(&h, "x-amz-content-sha256");
    const route_t *rt = fuzz_head_route(&h, NULL);
    if (rt == NULL)
        goto Exit;

    sigv4_request_t req = {
        .method = h.method,
        .method_len = h.method_len,
        .path = rt->raw_path,
        .path_len = rt->raw_path_len,
        .query = rt->raw_query,
        .query_len = rt->raw_query_len,
        .headers = h.headers,
        .num_headers = h.num_headers,
        .payload_hash = hash_h != NULL ? hash_h->value : "UNSIGNED-PAYLOAD",
        .payload_hash_len = hash_h != NULL ? hash_h->value_len : strlen("UNSIGNED-PAYLOAD"),
    };
    sigv4_auth_t auth;
    if (authz != NULL) {
        if (sigv4_parse_authorization(authz->value, authz->value_len, &auth) != SIGV4_OK || date_h == NULL)
            goto Exit;
        req.amz_date = date_h->value;
        req.amz_date_len = date_h->value_len;
    } else {
        size_t cred_len, sh_len, sig_len;
        const char *cred = route_param(rt, "X-Amz-Credential", &cred_len), *sh = route_param(rt, "X-Amz-SignedHeaders", &sh_len);
        const char *sig = route_param(rt, SIGV4_QUERY_SIGNATURE, &sig_len),
                   *date = route_param(rt, "X-Amz-Date", &req.amz_date_len);
        if (cred == NULL || sh == NULL || sig == NULL || date == NULL ||
            sigv4_parse_presigned(cred, cred_len, sh, sh_len, sig, sig_len, &auth) != SIGV4_OK)
            goto Exit;
        req.amz_date = date;
        req.presigned = 1;
    }
    check_auth(&auth);
    time_t when;
    if (sigv4_parse_amz_date(req.amz_date, req.amz_date_len, &when) != 0)
        goto Exit;

    uint8_t key[SIGV4_KEY_LEN];
    sigv4_signing_key(SECRET_KEY, strlen(SECRET_KEY), auth.date, auth.region, auth.service, key);
    check_canonical(&req, &auth);
    sigv4_verify(&req, &auth, key);
Exit:
    fuzz_head_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    switch (fuzz_byte(&in) % 4) {
    case 0:
        fuzz_authorization(&in);
        break;
    case 1:
        fuzz_presigned(&in);
        break;
    case 2:
        fuzz_values(&in);
        break;
    default:
        fuzz_request(&in);
        break;
    }
    return 0;
}
