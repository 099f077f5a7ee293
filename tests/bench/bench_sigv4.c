/* tests/bench/bench_sigv4.c -- AWS Signature V4 (header auth) for coffer-bench's own HTTP client.
 *
 * DESIGN: the canonical request is
 *   METHOD \n URI \n QUERY \n host:H \n x-amz-content-sha256:P \n x-amz-date:D \n \n SIGNED-HEADERS \n P
 * and the signature is HMAC-SHA256 down the chain secret -> date -> region ->
 * "s3" -> "aws4_request" -> string to sign; the key (all but the last step)
 * is cached per thread for the day. Everything is formatted into fixed
 * buffers with bounds checks; nothing is shared between threads. */
#include "bench_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGNED_HEADERS "host;x-amz-content-sha256;x-amz-date"
#define MAX_SORTED_PARAMS 32
#define MAX_ENCODED 2048

static void to_hex(const unsigned char *bin, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 15];
    }
    out[2 * len] = '\0';
}

long bench_uri_encode(const char *src, int keep_slash, char *dst, size_t dst_len)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
                    *p == '_' || *p == '~' || (keep_slash && *p == '/');
        if (n + (plain ? 1 : 3) >= dst_len)
            return -1;
        if (plain) {
            dst[n++] = (char)*p;
        } else {
            dst[n++] = '%';
            dst[n++] = digits[*p >> 4];
            dst[n++] = digits[*p & 15];
        }
    }
    if (n >= dst_len)
        return -1;
    dst[n] = '\0';
    return (long)n;
}

typedef struct encoded_param {
    char key[MAX_ENCODED];
    char value[MAX_ENCODED];
} encoded_param_t;

static int cmp_param(const void *x, const void *y)
{
    const encoded_param_t *a = x, *b = y;
    int c = strcmp(a->key, b->key);

    return c != 0 ? c : strcmp(a->value, b->value);
}

/* Appends s to buf at *pos; returns -1 when it does not fit (with its NUL). */
static int append(char *buf, size_t buf_len, size_t *pos, const char *s)
{
    size_t n = strlen(s);

    if (*pos + n >= buf_len)
        return -1;
    memcpy(buf + *pos, s, n + 1);
    *pos += n;
    return 0;
}

int bench_sigv4_query(const bench_query_param_t *params, size_t num_params, char *wire, size_t wire_len, char *canonical,
                      size_t canonical_len)
{
    encoded_param_t *enc;
    size_t wpos = 0, cpos = 0;
    int ret = -1;

    if (num_params > MAX_SORTED_PARAMS || wire_len == 0 || canonical_len == 0)
        return -1;
    wire[0] = canonical[0] = '\0';
    enc = calloc(num_params ? num_params : 1, sizeof(*enc));
    if (enc == NULL)
        abort();
    for (size_t i = 0; i < num_params; i++) {
        if (bench_uri_encode(params[i].key, 0, enc[i].key, sizeof(enc[i].key)) < 0 ||
            bench_uri_encode(params[i].value, 0, enc[i].value, sizeof(enc[i].value)) < 0)
            goto Exit;
        if ((i > 0 && append(wire, wire_len, &wpos, "&") != 0) || append(wire, wire_len, &wpos, enc[i].key) != 0)
            goto Exit;
        if (enc[i].value[0] != '\0' &&
            (append(wire, wire_len, &wpos, "=") != 0 || append(wire, wire_len, &wpos, enc[i].value) != 0))
            goto Exit;
    }
    qsort(enc, num_params, sizeof(*enc), cmp_param);
    for (size_t i = 0; i < num_params; i++) {
        if ((i > 0 && append(canonical, canonical_len, &cpos, "&") != 0) ||
            append(canonical, canonical_len, &cpos, enc[i].key) != 0 || append(canonical, canonical_len, &cpos, "=") != 0 ||
            append(canonical, canonical_len, &cpos, enc[i].value) != 0)
            goto Exit;
    }
    ret = 0;
Exit:
    free(enc);
    return ret;
}

void bench_sigv4_amz_date(time_t t, char out[BENCH_AMZ_DATE_LEN + 1])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, BENCH_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

void bench_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(data, len, md);
    to_hex(md, sizeof(md), out);
}

/* The signing key of the last (day, secret, region) this thread signed for: it changes once a
 * day, and deriving it takes four HMACs per request otherwise. Keyed by the credential
 * strings' addresses, which the callers keep for the whole run. */
static _Thread_local struct {
    char date[9];
    const char *secret, *region;
    unsigned char key[32];
} key_cache;

static void hmac_sha256(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
    unsigned int out_len = 32;

    if (HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &out_len) == NULL)
        abort();
}

int bench_sigv4_authorization(const bench_sigv4_creds_t *creds, const char *method, const char *canonical_uri,
                              const char *canonical_query, const char *host, const char *payload_hash, const char *amz_date,
                              char *out, size_t out_len)
{
    char canonical[8192], sts[512], secret[256], date[9], creq_hash[65], sig_hex[65];
    unsigned char k1[32], k2[32], sig[32]; /* HMAC's key and output never alias */
    int n;

    n = snprintf(canonical, sizeof(canonical), "%s\n%s\n%s\nhost:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n\n%s\n%s", method,
                 canonical_uri, canonical_query, host, payload_hash, amz_date, SIGNED_HEADERS, payload_hash);
    if (n < 0 || (size_t)n >= sizeof(canonical))
        return -1;
    bench_sha256_hex(canonical, (size_t)n, creq_hash);
    snprintf(date, sizeof(date), "%.8s", amz_date);
    n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", amz_date, date, creds->region, creq_hash);
    if (n < 0 || (size_t)n >= sizeof(sts))
        return -1;
    if (strcmp(date, key_cache.date) != 0 || creds->secret_key != key_cache.secret || creds->region != key_cache.region) {
        n = snprintf(secret, sizeof(secret), "AWS4%s", creds->secret_key);
        if (n < 0 || (size_t)n >= sizeof(secret))
            return -1;
        hmac_sha256(secret, (size_t)n, date, k1);
        hmac_sha256(k1, sizeof(k1), creds->region, k2);
        hmac_sha256(k2, sizeof(k2), "s3", k1);
        hmac_sha256(k1, sizeof(k1), "aws4_request", key_cache.key);
        memcpy(key_cache.date, date, sizeof(date));
        key_cache.secret = creds->secret_key;
        key_cache.region = creds->region;
    }
    hmac_sha256(key_cache.key, sizeof(key_cache.key), sts, sig);
    to_hex(sig, sizeof(sig), sig_hex);
    n = snprintf(out, out_len, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, SignedHeaders=%s, Signature=%s",
                 creds->access_key, date, creds->region, SIGNED_HEADERS, sig_hex);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
}
