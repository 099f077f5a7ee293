/* server/auth_v2.c -- AWS Signature Version 2 for the request pipeline.
 *
 * DESIGN: the signing rules live in auth/sigv2.c (pure); this file only feeds
 * it the request as h2o parsed it and applies the checks that need the clock
 * and the key store. The canonical resource always starts with the bucket:
 * for a virtual-host-style request the path does not hold it, so the bucket
 * the router took from the Host header is passed alongside the raw path.
 * V2 signs no payload hash: the body's integrity is Content-MD5, which the
 * operations check. Each request looks its key up once (no signing-key cache:
 * V2 signs with the secret itself); no copy of the secret outlives the check. */
#include "server/auth_v2.h"

#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth/sigv2.h"

#define SIGV2_MAX_CLOCK_SKEW_SECS (15 * 60)

/* Fills sreq from the request; the header index lives in the request pool. */
static void request_init(s3_req_t *r, sigv2_request_t *sreq, const char *expires, size_t expires_len)
{
    h2o_req_t *req = r->req;
    sigv2_header_t *headers = h2o_mem_alloc_pool(&req->pool, sizeof(*headers) * (req->headers.size + 1));

    for (size_t i = 0; i < req->headers.size; ++i) {
        const h2o_header_t *h = &req->headers.entries[i];
        headers[i] = (sigv2_header_t){h->name->base, h->name->len, h->value.base, h->value.len};
    }
    *sreq = (sigv2_request_t){
        .method = req->method.base,
        .method_len = req->method.len,
        .bucket = r->route.virtual_host ? r->route.bucket : NULL,
        .bucket_len = r->route.virtual_host ? r->route.bucket_len : 0,
        .path = r->route.raw_path,
        .path_len = r->route.raw_path_len,
        .query = r->route.raw_query,
        .query_len = r->route.raw_query_len,
        .headers = headers,
        .num_headers = req->headers.size,
        .expires = expires,
        .expires_len = expires_len,
    };
}

/* Looks up the key and checks the signature. Returns S3ERR_NONE and fills r->user, or the error to answer. */
static s3err_t verify(s3_req_t *r, const char *access_key, const char *signature, size_t signature_len, const char *expires,
                      size_t expires_len)
{
    keys_user_t user;
    sigv2_request_t sreq;
    sigv2_status_t st;

    if (keys_lookup(r->thread->server->keys, access_key, &user) != 0)
        return S3ERR_INVALID_ACCESS_KEY_ID;
    request_init(r, &sreq, expires, expires_len);
    st = sigv2_verify(&sreq, user.secret, strlen(user.secret), signature, signature_len);
    if (st == SIGV2_OK) {
        r->user = user;
        explicit_bzero(r->user.secret, sizeof(r->user.secret)); /* the request needs the name, not the secret */
        r->authenticated = 1;
    }
    OPENSSL_cleanse(&user, sizeof(user));
    return st == SIGV2_OK ? S3ERR_NONE : S3ERR_SIGNATURE_DOES_NOT_MATCH;
}

s3err_t s3_authenticate_sigv2(s3_req_t *r, const char *authz, size_t authz_len, const char **message)
{
    sigv2_auth_t auth;
    size_t date_len;
    const char *date;
    time_t when, now;

    if (sigv2_parse_authorization(authz, authz_len, &auth) != SIGV2_OK) {
        *message = "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature";
        return S3ERR_INVALID_ARGUMENT;
    }
    /* x-amz-date takes precedence over Date (clients use it when their HTTP library sets Date itself) */
    if ((date = s3_header(r, "x-amz-date", &date_len)) == NULL)
        date = s3_header(r, "date", &date_len);
    if (date == NULL || sigv2_parse_http_date(date, date_len, &when) != 0) {
        *message = "AWS authentication requires a valid Date or x-amz-date header";
        return S3ERR_ACCESS_DENIED;
    }
    now = time(NULL);
    if (when > now + SIGV2_MAX_CLOCK_SKEW_SECS || when < now - SIGV2_MAX_CLOCK_SKEW_SECS)
        return S3ERR_REQUEST_TIME_TOO_SKEWED;
    return verify(r, auth.access_key, auth.signature, strlen(auth.signature), NULL, 0);
}

s3err_t s3_authenticate_sigv2_query(s3_req_t *r, const char **message)
{
    const route_t *rt = &r->route;
    size_t key_len, sig_len, exp_len;
    const char *key = route_param(rt, "AWSAccessKeyId", &key_len);
    const char *sig = route_param(rt, "Signature", &sig_len);
    const char *expires = route_param(rt, "Expires", &exp_len);
    long long secs = 0;

    if (key == NULL || sig == NULL || expires == NULL) {
        *message = "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters";
        return S3ERR_ACCESS_DENIED;
    }
    for (size_t i = 0; i < exp_len && secs >= 0; i++) {
        if (expires[i] < '0' || expires[i] > '9' || secs > (LLONG_MAX - 9) / 10)
            secs = -1;
        else
            secs = secs * 10 + (expires[i] - '0');
    }
    if (exp_len == 0 || secs < 0) {
        *message = "Invalid date (should be seconds since epoch)";
        return S3ERR_ACCESS_DENIED;
    }
    if ((long long)time(NULL) > secs) {
        *message = "Request has expired";
        return S3ERR_ACCESS_DENIED;
    }
    if (key_len == 0 || strlen(key) != key_len) /* an empty key, or one cut short by a decoded %00 */
        return S3ERR_INVALID_ACCESS_KEY_ID;
    return verify(r, key, sig, sig_len, expires, exp_len);
}
