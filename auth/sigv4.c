/* auth/sigv4.c -- AWS Signature Version 4 (header auth) for S3.
 *
 * DESIGN: verification rebuilds the canonical request from the request as it
 * arrived, hashes it into the string to sign and compares HMACs in constant
 * time. Everything runs on every request, so the hot path allocates nothing:
 * the canonical request is built into a caller (or stack) buffer with bounds
 * checks, the query is sorted through an index of slices into the raw query
 * (no decoded or encoded copies), and the OpenSSL digest and MAC contexts are
 * fetched once and then reused per thread.
 *
 * S3's canonical URI is the raw path percent-decoded and re-encoded once with
 * '/' kept; unlike other services it is never normalized ('.', '..' and '//'
 * are part of object keys). Query keys and values are decoded and re-encoded
 * the same way ('+' is a literal '+', not a space) and sorted by encoded key,
 * then encoded value. Clients that follow the SDK rules send a path and query
 * that are already canonical, so the round trip gives back their bytes; it
 * also accepts clients that encode more or less than needed (e.g. '%7E' or a
 * raw '!'), which is what S3 does.
 */
#include "auth/sigv4.h"
#include "auth/text.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"

/* Bounds for sigv4_verify's stack work; a request beyond them does not verify. */
#define SIGV4_MAX_CANONICAL 16384
#define SIGV4_MAX_QUERY_PARAMS 256

/* Internal results of the canonical request builder (public API folds them to -1). */
enum {
    BUILD_TOO_LONG = -1,
    BUILD_MISSING_HEADER = -2,
    BUILD_BAD_REQUEST = -3, /* bad percent escape, too many query parameters */
};

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

/* ---- OpenSSL contexts: fetched once per process, one working context per thread ---- */

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;     /* owned for the process lifetime */
static EVP_MAC *hmac_mac;     /* owned for the process lifetime */
static pthread_key_t ctx_key; /* per-thread struct thread_ctx */

struct thread_ctx {
    EVP_MD_CTX *md;   /* owned */
    EVP_MAC_CTX *mac; /* owned; digest already set to SHA256, re-keyed per use */
};

static void thread_ctx_free(void *p)
{
    struct thread_ctx *tc = p;

    EVP_MD_CTX_free(tc->md);
    EVP_MAC_CTX_free(tc->mac);
    free(tc);
}

static void crypto_init(void)
{
    /* Explicit fetches: the implicit fetch behind EVP_sha256()/HMAC() runs on every call in OpenSSL 3. */
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (sha256_md == NULL || hmac_mac == NULL || pthread_key_create(&ctx_key, thread_ctx_free) != 0)
        abort();
}

static struct thread_ctx *thread_ctx_get(void)
{
    static _Thread_local struct thread_ctx *tls;
    struct thread_ctx *tc;
    OSSL_PARAM params[2];

    if (tls != NULL)
        return tls;
    pthread_once(&crypto_once, crypto_init);
    if ((tc = calloc(1, sizeof(*tc))) == NULL)
        abort();
    tc->md = EVP_MD_CTX_new();
    tc->mac = EVP_MAC_CTX_new(hmac_mac);
    if (tc->md == NULL || tc->mac == NULL)
        abort();
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!EVP_MAC_CTX_set_params(tc->mac, params))
        abort();
    /* The key's destructor frees the contexts when a thread exits. */
    if (pthread_setspecific(ctx_key, tc) != 0)
        abort();
    tls = tc;
    return tc;
}

static void hmac_sha256(const uint8_t *key, size_t key_len, const void *msg, size_t msg_len, uint8_t out[SIGV4_KEY_LEN])
{
    EVP_MAC_CTX *mac = thread_ctx_get()->mac;
    size_t out_len = 0;

    if (!EVP_MAC_init(mac, key, key_len, NULL) || !EVP_MAC_update(mac, msg, msg_len) ||
        !EVP_MAC_final(mac, out, &out_len, SIGV4_KEY_LEN) || out_len != SIGV4_KEY_LEN)
        abort();
}

static void sha256(const void *data, size_t len, uint8_t out[32])
{
    EVP_MD_CTX *md = thread_ctx_get()->md;

    if (!EVP_DigestInit_ex2(md, sha256_md, NULL) || !EVP_DigestUpdate(md, data, len) || !EVP_DigestFinal_ex(md, out, NULL))
        abort();
}

/* text_hex, NUL-terminated. */
static void hex_encode(const uint8_t *src, size_t len, char *dst)
{
    text_hex(src, len, dst);
    dst[2 * len] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t digest[32];

    sha256(data, len, digest);
    hex_encode(digest, sizeof(digest), out);
}

void sigv4_signing_key(const char *secret, size_t secret_len, const char *date, const char *region, const char *service,
                       uint8_t out[SIGV4_KEY_LEN])
{
    uint8_t k[SIGV4_KEY_LEN];
    uint8_t first_stack[4 + 128];
    uint8_t *first = first_stack;

    /* "AWS4" + secret; secrets are 40 characters in practice. */
    if (secret_len > sizeof(first_stack) - 4 && (first = malloc(4 + secret_len)) == NULL)
        abort();
    memcpy(first, "AWS4", 4);
    memcpy(first + 4, secret, secret_len);
    hmac_sha256(first, 4 + secret_len, date, strlen(date), k);
    OPENSSL_cleanse(first, 4 + secret_len);
    if (first != first_stack)
        free(first);
    hmac_sha256(k, sizeof(k), region, strlen(region), k);
    hmac_sha256(k, sizeof(k), service, strlen(service), k);
    hmac_sha256(k, sizeof(k), SIGV4_TERMINATOR, sizeof(SIGV4_TERMINATOR) - 1, out);
    OPENSSL_cleanse(k, sizeof(k));
}

void sigv4_sign(const uint8_t key[SIGV4_KEY_LEN], const char *string_to_sign, size_t len, char out[65])
{
    uint8_t mac[SIGV4_KEY_LEN];

    hmac_sha256(key, SIGV4_KEY_LEN, string_to_sign, len, mac);
    hex_encode(mac, sizeof(mac), out);
}

/* ---- URI encoding ---- */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

int sigv4_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t sigv4_uri_encode(const char *src, size_t src_len, int keep_slash, char *dst)
{
    size_t n = 0;

    for (size_t i = 0; i < src_len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (is_unreserved(c) || (c == '/' && keep_slash)) {
            dst[n++] = (char)c;
        } else {
            dst[n++] = '%';
            dst[n++] = hex_upper[c >> 4];
            dst[n++] = hex_upper[c & 0xf];
        }
    }
    dst[n] = '\0';
    return n;
}

/* Decodes the byte at src[*i] (a '%XX' escape or a literal) and advances *i; -1 on a bad escape. */
static int decode_next(const char *src, size_t len, size_t *i)
{
    unsigned char c = (unsigned char)src[*i];
    int hi, lo;

    if (c != '%') {
        (*i)++;
        return c;
    }
    if (len - *i < 3 || (hi = sigv4_hex_digit((unsigned char)src[*i + 1])) < 0 ||
        (lo = sigv4_hex_digit((unsigned char)src[*i + 2])) < 0)
        return -1;
    *i += 3;
    return hi << 4 | lo;
}

long sigv4_uri_decode(const char *src, size_t src_len, char *dst)
{
    size_t i = 0, n = 0;

    while (i < src_len) {
        int c = decode_next(src, src_len, &i);
        if (c < 0)
            return -1;
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    return (long)n;
}

/* ---- canonical request ---- */

static void out_str(text_out_t *o, const char *s)
{
    text_out_bytes(o, s, strlen(s));
}

/* Appends src percent-decoded then S3-encoded; returns -1 on a bad escape. */
static int out_reencode(text_out_t *o, const char *src, size_t len, int keep_slash)
{
    size_t i = 0;

    while (i < len) {
        int c = decode_next(src, len, &i);
        if (c < 0)
            return -1;
        if (is_unreserved((unsigned char)c) || (c == '/' && keep_slash)) {
            text_out_char(o, (char)c);
        } else {
            char esc[3] = {'%', hex_upper[c >> 4], hex_upper[c & 0xf]};
            text_out_bytes(o, esc, 3);
        }
    }
    return 0;
}

struct query_param {
    const char *key, *value; /* borrowed from the raw query, still percent-encoded */
    size_t key_len, value_len;
};

/*
 * Compares the S3 encodings of two raw (percent-encoded) strings without building them.
 * Encoding maps a byte either to itself (unreserved) or to "%XY" with upper-case hex; '%'
 * sorts below every unreserved character and upper-case hex digits sort in numeric order,
 * so at the first differing decoded byte the encodings order as (unreserved, byte) pairs.
 * Both strings were validated by the caller.
 */
static int compare_encoded(const char *a, size_t a_len, const char *b, size_t b_len)
{
    size_t i = 0, j = 0;

    while (i < a_len && j < b_len) {
        int ca = decode_next(a, a_len, &i);
        int cb = decode_next(b, b_len, &j);
        if (ca != cb) {
            int ra = (is_unreserved((unsigned char)ca) ? 256 : 0) + ca;
            int rb = (is_unreserved((unsigned char)cb) ? 256 : 0) + cb;
            return ra < rb ? -1 : 1;
        }
    }
    if (i < a_len)
        return 1;
    if (j < b_len)
        return -1;
    return 0;
}

static int compare_params(const void *x, const void *y)
{
    const struct query_param *a = x, *b = y;
    int r = compare_encoded(a->key, a->key_len, b->key, b->key_len);

    return r != 0 ? r : compare_encoded(a->value, a->value_len, b->value, b->value_len);
}

static int validate_escapes(const char *s, size_t len)
{
    for (size_t i = 0; i < len;)
        if (decode_next(s, len, &i) < 0)
            return -1;
    return 0;
}

/* The parameter a presigned URL carries its signature in: never part of what is signed. */
static int is_signature_param(const struct query_param *p)
{
    return p->key_len == sizeof(SIGV4_QUERY_SIGNATURE) - 1 && memcmp(p->key, SIGV4_QUERY_SIGNATURE, p->key_len) == 0;
}

static int out_canonical_query(text_out_t *o, const char *query, size_t query_len, int presigned)
{
    struct query_param params[SIGV4_MAX_QUERY_PARAMS];
    size_t num_params = 0, pos = 0;

    if (query_len == 0)
        return 0;
    while (pos <= query_len) {
        const char *amp = memchr(query + pos, '&', query_len - pos);
        size_t end = amp != NULL ? (size_t)(amp - query) : query_len;
        const char *eq = memchr(query + pos, '=', end - pos);
        struct query_param *p;

        if (num_params == SIGV4_MAX_QUERY_PARAMS)
            return -1;
        p = &params[num_params++];
        p->key = query + pos;
        p->key_len = eq != NULL ? (size_t)(eq - p->key) : end - pos;
        p->value = eq != NULL ? eq + 1 : query + end;
        p->value_len = (size_t)(query + end - p->value);
        if (validate_escapes(p->key, p->key_len) != 0 || validate_escapes(p->value, p->value_len) != 0)
            return -1;
        if (presigned && is_signature_param(p))
            num_params--;
        pos = end + 1;
    }
    qsort(params, num_params, sizeof(params[0]), compare_params);
    for (size_t i = 0; i < num_params; i++) {
        if (i != 0)
            text_out_char(o, '&');
        out_reencode(o, params[i].key, params[i].key_len, 0);
        text_out_char(o, '=');
        out_reencode(o, params[i].value, params[i].value_len, 0);
    }
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Appends a header value trimmed, with each inner run of spaces/tabs folded to one space. */
static void out_trimall(text_out_t *o, const char *v, size_t len)
{
    size_t i = 0;
    int pending_space = 0;

    while (i < len && is_space(v[i]))
        i++;
    for (; i < len; i++) {
        if (is_space(v[i])) {
            pending_space = 1;
            continue;
        }
        if (pending_space)
            text_out_char(o, ' ');
        pending_space = 0;
        text_out_char(o, v[i]);
    }
}

/* Appends "name:value[,value...]\n" for each signed header, in SignedHeaders order. */
static int out_canonical_headers(text_out_t *o, const sigv4_request_t *req, const char *signed_headers)
{
    const char *name = signed_headers;

    while (*name != '\0') {
        const char *semi = strchr(name, ';');
        size_t name_len = semi != NULL ? (size_t)(semi - name) : strlen(name);
        int found = 0;

        text_out_bytes(o, name, name_len);
        text_out_char(o, ':');
        for (size_t i = 0; i < req->num_headers; i++) {
            const sigv4_header_t *h = &req->headers[i];
            if (!text_ieq(h->name, h->name_len, name, name_len))
                continue;
            if (found++)
                text_out_char(o, ',');
            out_trimall(o, h->value, h->value_len);
        }
        if (!found)
            return -1;
        text_out_char(o, '\n');
        name += name_len;
        if (*name == ';')
            name++;
    }
    return 0;
}

static long build_canonical_request(const sigv4_request_t *req, const sigv4_auth_t *auth, char *buf, size_t buf_len)
{
    text_out_t o = {buf, 0, buf_len, 0};

    if (buf_len == 0)
        return BUILD_TOO_LONG;
    o.cap = buf_len - 1; /* room for the NUL */

    text_out_bytes(&o, req->method, req->method_len);
    text_out_char(&o, '\n');
    if (req->path_len == 0)
        text_out_char(&o, '/');
    else if (out_reencode(&o, req->path, req->path_len, 1) != 0)
        return BUILD_BAD_REQUEST;
    text_out_char(&o, '\n');
    if (out_canonical_query(&o, req->query, req->query_len, req->presigned) != 0)
        return BUILD_BAD_REQUEST;
    text_out_char(&o, '\n');
    if (out_canonical_headers(&o, req, auth->signed_headers) != 0)
        return BUILD_MISSING_HEADER;
    text_out_char(&o, '\n');
    out_str(&o, auth->signed_headers);
    text_out_char(&o, '\n');
    if (req->payload_hash != NULL)
        text_out_bytes(&o, req->payload_hash, req->payload_hash_len);
    if (o.overflow)
        return BUILD_TOO_LONG;
    buf[o.len] = '\0';
    return (long)o.len;
}

long sigv4_canonical_request(const sigv4_request_t *req, const sigv4_auth_t *auth, char *buf, size_t buf_len)
{
    long n = build_canonical_request(req, auth, buf, buf_len);

    return n < 0 ? -1 : n;
}

static long build_string_to_sign(const char *amz_date, size_t amz_date_len, const sigv4_auth_t *auth, const char *canonical_request,
                                 size_t canonical_len, char *buf, size_t buf_len)
{
    text_out_t o = {buf, 0, buf_len, 0};
    char hash[65];

    if (buf_len == 0)
        return -1;
    o.cap = buf_len - 1;
    sigv4_sha256_hex(canonical_request, canonical_len, hash);
    out_str(&o, SIGV4_ALGORITHM "\n");
    text_out_bytes(&o, amz_date, amz_date_len);
    text_out_char(&o, '\n');
    out_str(&o, auth->date);
    text_out_char(&o, '/');
    out_str(&o, auth->region);
    text_out_char(&o, '/');
    out_str(&o, auth->service);
    out_str(&o, "/" SIGV4_TERMINATOR "\n");
    text_out_bytes(&o, hash, 64);
    if (o.overflow)
        return -1;
    buf[o.len] = '\0';
    return (long)o.len;
}

long sigv4_string_to_sign(const char *amz_date, const sigv4_auth_t *auth, const char *canonical_request, size_t canonical_len,
                          char *buf, size_t buf_len)
{
    return build_string_to_sign(amz_date, strlen(amz_date), auth, canonical_request, canonical_len, buf, buf_len);
}

static int signed_headers_include_host(const char *signed_headers)
{
    const char *p = signed_headers;

    for (;;) {
        const char *semi = strchr(p, ';');
        size_t len = semi != NULL ? (size_t)(semi - p) : strlen(p);
        if (len == 4 && memcmp(p, "host", 4) == 0)
            return 1;
        if (semi == NULL)
            return 0;
        p = semi + 1;
    }
}

sigv4_status_t sigv4_verify(const sigv4_request_t *req, const sigv4_auth_t *auth, const uint8_t key[SIGV4_KEY_LEN])
{
    char canonical[SIGV4_MAX_CANONICAL];
    char sts[512];
    char signature[65];
    long canonical_len, sts_len;

    if (!signed_headers_include_host(auth->signed_headers))
        return SIGV4_MISSING_HEADER;
    canonical_len = build_canonical_request(req, auth, canonical, sizeof(canonical));
    if (canonical_len == BUILD_MISSING_HEADER)
        return SIGV4_MISSING_HEADER;
    if (canonical_len < 0)
        return SIGV4_MISMATCH; /* too large or undecodable: no client could have signed what we would compute */
    sts_len = build_string_to_sign(req->amz_date != NULL ? req->amz_date : "", req->amz_date != NULL ? req->amz_date_len : 0, auth,
                                   canonical, (size_t)canonical_len, sts, sizeof(sts));
    if (sts_len < 0)
        return SIGV4_MISMATCH;
    sigv4_sign(key, sts, (size_t)sts_len, signature);
    return CRYPTO_memcmp(signature, auth->signature, 64) == 0 ? SIGV4_OK : SIGV4_MISMATCH;
}

/* ---- Authorization header ---- */

/* Copies [s, s+len) into dst[dst_size] as a C string; 0 when it does not fit or is empty. */
static int copy_field(char *dst, size_t dst_size, const char *s, size_t len)
{
    if (len == 0 || len >= dst_size || memchr(s, '\0', len) != NULL)
        return 0;
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 1;
}

static int parse_credential(const char *s, size_t len, sigv4_auth_t *out)
{
    const char *part[5];
    size_t part_len[5], n = 0, start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        if (n == 5)
            return 0;
        part[n] = s + start;
        part_len[n++] = i - start;
        start = i + 1;
    }
    if (n != 5)
        return 0;
    if (!copy_field(out->access_key, sizeof(out->access_key), part[0], part_len[0]) ||
        !copy_field(out->date, sizeof(out->date), part[1], part_len[1]) || part_len[1] != 8 ||
        !copy_field(out->region, sizeof(out->region), part[2], part_len[2]) ||
        !copy_field(out->service, sizeof(out->service), part[3], part_len[3]))
        return 0;
    for (size_t i = 0; i < 8; i++)
        if (out->date[i] < '0' || out->date[i] > '9')
            return 0;
    return strcmp(out->service, "s3") == 0 && part_len[4] == sizeof(SIGV4_TERMINATOR) - 1 &&
           memcmp(part[4], SIGV4_TERMINATOR, part_len[4]) == 0;
}

static int is_header_name_char(unsigned char c)
{
    /* RFC 9110 tchar, lower-case only */
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int parse_signed_headers(const char *s, size_t len, sigv4_auth_t *out)
{
    if (!copy_field(out->signed_headers, sizeof(out->signed_headers), s, len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ';') {
            if (i == 0 || i == len - 1 || s[i - 1] == ';')
                return 0; /* empty name */
        } else if (!is_header_name_char((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static int parse_signature(const char *s, size_t len, sigv4_auth_t *out)
{
    if (len != 64)
        return 0;
    for (size_t i = 0; i < 64; i++) {
        int v = sigv4_hex_digit((unsigned char)s[i]);
        if (v < 0)
            return 0;
        out->signature[i] = hex_lower[v];
    }
    out->signature[64] = '\0';
    return 1;
}

sigv4_status_t sigv4_parse_authorization(const char *value, size_t value_len, sigv4_auth_t *out)
{
    static const char algorithm[] = SIGV4_ALGORITHM;
    const size_t algorithm_len = sizeof(algorithm) - 1;
    int have_credential = 0, have_signed_headers = 0, have_signature = 0;
    size_t pos;

    memset(out, 0, sizeof(*out));
    if (value_len <= algorithm_len || memcmp(value, algorithm, algorithm_len) != 0 || !is_space(value[algorithm_len]))
        return SIGV4_MALFORMED;
    pos = algorithm_len;
    for (;;) {
        const char *field, *eq, *comma;
        size_t field_end, name_len, v_len;
        const char *v;

        while (pos < value_len && is_space(value[pos]))
            pos++;
        field = value + pos;
        comma = memchr(field, ',', value_len - pos);
        field_end = comma != NULL ? (size_t)(comma - value) : value_len;
        while (field_end > pos && is_space(value[field_end - 1]))
            field_end--;
        if ((eq = memchr(field, '=', field_end - pos)) == NULL)
            return SIGV4_MALFORMED;
        name_len = (size_t)(eq - field);
        v = eq + 1;
        v_len = (size_t)(value + field_end - v);

#define FIELD_IS(lit) (name_len == sizeof(lit) - 1 && memcmp(field, lit, name_len) == 0)
        if (FIELD_IS("Credential")) {
            if (have_credential++ || !parse_credential(v, v_len, out))
                return SIGV4_MALFORMED;
        } else if (FIELD_IS("SignedHeaders")) {
            if (have_signed_headers++ || !parse_signed_headers(v, v_len, out))
                return SIGV4_MALFORMED;
        } else if (FIELD_IS("Signature")) {
            if (have_signature++ || !parse_signature(v, v_len, out))
                return SIGV4_MALFORMED;
        } else {
            return SIGV4_MALFORMED;
        }
#undef FIELD_IS

        if (comma == NULL)
            break;
        pos = (size_t)(comma - value) + 1;
    }
    return have_credential && have_signed_headers && have_signature ? SIGV4_OK : SIGV4_MALFORMED;
}

sigv4_status_t sigv4_parse_presigned(const char *credential, size_t credential_len, const char *signed_headers,
                                     size_t signed_headers_len, const char *signature, size_t signature_len, sigv4_auth_t *out)
{
    memset(out, 0, sizeof(*out));
    if (credential == NULL || signed_headers == NULL || signature == NULL || !parse_credential(credential, credential_len, out) ||
        !parse_signed_headers(signed_headers, signed_headers_len, out) || !parse_signature(signature, signature_len, out))
        return SIGV4_MALFORMED;
    return SIGV4_OK;
}

int sigv4_parse_amz_date(const char *s, size_t len, time_t *out)
{
    struct tm tm = {0};
    if (len != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (int i = 0; i < 15; ++i) {
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return -1;
    }
#define D2(p) ((s[p] - '0') * 10 + (s[p + 1] - '0'))
    tm.tm_year = D2(0) * 100 + D2(2) - 1900;
    tm.tm_mon = D2(4) - 1;
    tm.tm_mday = D2(6);
    tm.tm_hour = D2(9);
    tm.tm_min = D2(11);
    tm.tm_sec = D2(13);
#undef D2
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    *out = timegm(&tm);
    return 0;
}
