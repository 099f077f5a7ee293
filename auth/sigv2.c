/* auth/sigv2.c -- AWS Signature Version 2 (header and query-string forms) for S3.
 *
 * DESIGN: verification rebuilds the string to sign from the request as it
 * arrived and compares base64 HMAC-SHA1s in constant time. Nothing is
 * allocated: the string is written into a caller (or stack) buffer with bounds
 * checks, and the x-amz-* headers and signed sub-resources are sorted through
 * small index arrays of slices into the request, decoded as they are copied
 * out. V2 is for old clients only, so the MAC is OpenSSL's one-shot HMAC.
 *
 * The rules follow AWS's "Signing and Authenticating REST Requests" and what
 * the clients really send (botocore's HmacV1Auth, s3cmd's sign_request_v2):
 * - header values are trimmed and line folds become one space; other inner
 *   whitespace is kept (botocore only strips, so folding runs of spaces the
 *   way SigV4 does would break its signatures);
 * - an x-amz-date header blanks the Date line (its value is signed as an
 *   x-amz header instead);
 * - the path is signed as sent (still percent-encoded), never normalized;
 * - sub-resource names are matched after percent-decoding, so "%61cl" cannot
 *   smuggle in the acl sub-resource unsigned; their values are signed decoded,
 *   and "name=" keeps its '=' exactly as botocore signs it.
 */
#include "auth/sigv2.h"
#include "auth/text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/sigv4.h"

/* Bounds for the stack work; a request beyond them does not verify. */
#define SIGV2_MAX_STRING_TO_SIGN 16384
#define SIGV2_MAX_AMZ_HEADERS 128
#define SIGV2_MAX_SUBRESOURCES 128
#define SIGV2_MAX_SUBRESOURCE_NAME 32 /* longer than any name below */

/*
 * The query parameters S3 signs: AWS's documented list, the response-* overrides, and
 * the newer sub-resources botocore's HmacV1Auth signs as well. Sorted (strcmp order).
 */
static const char *const signed_subresources[] = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

/* ---- bounded output ---- */

/* ---- slices of the request, possibly still percent-encoded ---- */

struct slice {
    const char *s;
    size_t len;
    int encoded; /* from the query: percent-decode when reading */
};

/* The next byte of a slice at *i (decoded when the slice is encoded), advancing *i; -1 at the end or on a bad escape. */
static int slice_next(const struct slice *sl, size_t *i)
{
    int hi, lo;

    if (*i >= sl->len)
        return -1;
    if (!sl->encoded || sl->s[*i] != '%')
        return (unsigned char)sl->s[(*i)++];
    if (sl->len - *i < 3 || (hi = sigv4_hex_digit((unsigned char)sl->s[*i + 1])) < 0 ||
        (lo = sigv4_hex_digit((unsigned char)sl->s[*i + 2])) < 0)
        return -1;
    *i += 3;
    return hi << 4 | lo;
}

static int slice_valid(const struct slice *sl)
{
    size_t i = 0;

    while (i < sl->len)
        if (slice_next(sl, &i) < 0)
            return 0;
    return 1;
}

/* Compares two (valid) slices byte for byte after decoding, case-insensitively when fold_case. */
static int slice_compare(const struct slice *a, const struct slice *b, int fold_case)
{
    size_t i = 0, j = 0;

    for (;;) {
        int ca = slice_next(a, &i);
        int cb = slice_next(b, &j);
        if (fold_case) {
            ca = text_lower(ca);
            cb = text_lower(cb);
        }
        if (ca != cb)
            return ca < cb ? -1 : 1; /* the end (-1) sorts first */
        if (ca < 0)
            return 0;
    }
}

/* Whether a (valid) slice decodes to a name starting with "x-amz-", in any case. */
static int slice_is_amz(const struct slice *sl)
{
    static const char prefix[] = "x-amz-";
    size_t i = 0;

    for (size_t k = 0; k < sizeof(prefix) - 1; k++)
        if (text_lower(slice_next(sl, &i)) != prefix[k])
            return 0;
    return 1;
}

/* Appends a (valid) slice decoded, lower-cased when lower. */
static void out_slice(text_out_t *o, const struct slice *sl, int lower)
{
    size_t i = 0;
    int c;

    while ((c = slice_next(sl, &i)) >= 0)
        text_out_char(o, (char)(lower ? text_lower(c) : c));
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Appends a (valid) header value decoded, trimmed of whitespace at both ends, and each inner run of
 * whitespace holding a line break (an obsolete line fold) replaced by one space. Other inner whitespace
 * is kept. Each run is looked over before anything of it is written, so the value never needs more
 * room in o than it takes once normalized (sigv2_string_to_sign's -1 means the result does not fit).
 */
static void out_value(text_out_t *o, const struct slice *sl)
{
    size_t i = 0;
    int c, seen_text = 0;

    for (;;) {
        size_t run = i, end, j;
        if ((c = slice_next(sl, &i)) < 0)
            return;
        if (!is_ws((char)c)) {
            text_out_char(o, (char)c);
            seen_text = 1;
            continue;
        }
        int fold = c == '\r' || c == '\n';
        for (end = j = i; (c = slice_next(sl, &j)) >= 0 && is_ws((char)c); end = j)
            fold |= c == '\r' || c == '\n';
        if (c < 0)
            return; /* trailing whitespace */
        if (seen_text && fold) {
            text_out_char(o, ' ');
        } else if (seen_text) {
            for (size_t k = run; k < end;)
                text_out_char(o, (char)slice_next(sl, &k));
        }
        i = end;
    }
}

/* ---- the string to sign ---- */

static const sigv2_header_t *find_header(const sigv2_request_t *req, const char *lower)
{
    for (size_t i = 0; i < req->num_headers; i++)
        if (text_ieq_str(req->headers[i].name, req->headers[i].name_len, lower))
            return &req->headers[i];
    return NULL;
}

/* Appends a standard header's value, trimmed, and the newline; nothing but the newline when absent. */
static void out_standard_header(text_out_t *o, const sigv2_header_t *h)
{
    if (h != NULL) {
        struct slice value = {h->value, h->value_len, 0};
        out_value(o, &value);
    }
    text_out_char(o, '\n');
}

struct amz_header {
    struct slice name, value;
};

/* Stable insertion sort by lower-cased name: repeated names keep arrival order, so their values join in order. */
static void sort_amz(struct amz_header *h, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct amz_header cur = h[i];
        size_t j = i;
        while (j > 0 && slice_compare(&h[j - 1].name, &cur.name, 1) > 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = cur;
    }
}

/* One "name[=value]" item of a raw query, both still percent-encoded. */
struct query_item {
    struct slice name, value;
    int has_value; /* an '=' was sent */
};

/* Reads the next non-empty item of a raw query from *pos; 0 when there is none left. */
static int next_query_item(const char *query, size_t query_len, size_t *pos, struct query_item *it)
{
    while (*pos <= query_len) {
        const char *start = query + *pos;
        const char *amp = memchr(start, '&', query_len - *pos);
        size_t end = amp != NULL ? (size_t)(amp - query) : query_len;
        const char *eq = memchr(start, '=', end - *pos);
        size_t item_start = *pos;

        *pos = end + 1;
        if (end == item_start)
            continue; /* "&&" or a trailing '&' */
        it->name = (struct slice){start, eq != NULL ? (size_t)(eq - start) : end - item_start, 1};
        it->has_value = eq != NULL;
        it->value = eq != NULL ? (struct slice){eq + 1, (size_t)(query + end - eq - 1), 1} : (struct slice){"", 0, 1};
        return 1;
    }
    return 0;
}

/* Appends the CanonicalizedAmzHeaders; -1 on too many headers or a bad escape in a query one. */
static int out_amz_headers(text_out_t *o, const sigv2_request_t *req)
{
    struct amz_header amz[SIGV2_MAX_AMZ_HEADERS];
    size_t n = 0;

    for (size_t i = 0; i < req->num_headers; i++) {
        const sigv2_header_t *h = &req->headers[i];
        struct slice name = {h->name, h->name_len, 0};
        if (!slice_is_amz(&name))
            continue;
        if (n == SIGV2_MAX_AMZ_HEADERS)
            return -1;
        amz[n++] = (struct amz_header){name, {h->value, h->value_len, 0}};
    }
    if (req->expires != NULL) { /* query form: x-amz-* parameters stand for headers */
        struct query_item it;
        size_t pos = 0;
        while (next_query_item(req->query, req->query_len, &pos, &it)) {
            if (!slice_valid(&it.name) || !slice_is_amz(&it.name))
                continue;
            if (!slice_valid(&it.value) || n == SIGV2_MAX_AMZ_HEADERS)
                return -1;
            amz[n++] = (struct amz_header){it.name, it.value};
        }
    }
    sort_amz(amz, n);
    for (size_t i = 0; i < n; i++) {
        if (i != 0 && slice_compare(&amz[i - 1].name, &amz[i].name, 1) == 0) {
            text_out_char(o, ','); /* a repeated name: one line, values in arrival order */
        } else {
            if (i != 0)
                text_out_char(o, '\n');
            out_slice(o, &amz[i].name, 1);
            text_out_char(o, ':');
        }
        out_value(o, &amz[i].value);
    }
    if (n != 0)
        text_out_char(o, '\n');
    return 0;
}

/* The entry of signed_subresources a (valid) query name decodes to, or NULL. */
static const char *signed_subresource(const struct slice *name)
{
    char decoded[SIGV2_MAX_SUBRESOURCE_NAME + 1];
    size_t i = 0, n = 0;
    int c;

    while ((c = slice_next(name, &i)) >= 0) {
        if (n == SIGV2_MAX_SUBRESOURCE_NAME)
            return NULL;
        decoded[n++] = (char)c;
    }
    decoded[n] = '\0';
    for (size_t k = 0; k < sizeof(signed_subresources) / sizeof(signed_subresources[0]); k++)
        if (strcmp(decoded, signed_subresources[k]) == 0)
            return signed_subresources[k];
    return NULL;
}

struct subresource {
    const char *name; /* from signed_subresources */
    struct query_item item;
};

/* Appends the resource path: "/bucket" + the raw path; the rest of the CanonicalizedResource follows. */
static void out_resource_path(text_out_t *o, const sigv2_request_t *req, sigv2_form_t form)
{
    const char *path = req->path_len != 0 ? req->path : "/";
    size_t path_len = req->path_len != 0 ? req->path_len : 1;
    int bucket_level;

    if (req->bucket != NULL && req->bucket_len != 0) { /* virtual-host style: the path holds the key only */
        text_out_char(o, '/');
        text_out_bytes(o, req->bucket, req->bucket_len);
        bucket_level = path_len == 1;
        if (!bucket_level || form == SIGV2_FORM_AWS)
            text_out_bytes(o, path, path_len);
        return;
    }
    /* path style: "/bucket" alone is signed as "/bucket/" (what AWS and botocore agree on), unless botocore left
     * the operation's query on it, where it stops at the bucket name */
    bucket_level = path_len > 1 && memchr(path + 1, '/', path_len - 1) == NULL;
    text_out_bytes(o, path, path_len);
    if (bucket_level && form == SIGV2_FORM_AWS)
        text_out_char(o, '/');
}

/* Appends the CanonicalizedResource; -1 on a bad escape, too many sub-resources, or a form that does not apply. */
static int out_resource(text_out_t *o, const sigv2_request_t *req, sigv2_form_t form)
{
    struct subresource sub[SIGV2_MAX_SUBRESOURCES];
    struct query_item it;
    size_t n = 0, pos = 0;

    out_resource_path(o, req, form);
    if (form == SIGV2_FORM_BOTOCORE_AUTH_PATH) {
        /* botocore's auth path is the operation's request URI, whose literal query ("?acl", "?uploads",
         * "?list-type=2") is also the first item it sends */
        if (!next_query_item(req->query, req->query_len, &pos, &it))
            return -1;
        text_out_char(o, '?');
        text_out_bytes(o, it.name.s, it.has_value ? (size_t)(it.value.s + it.value.len - it.name.s) : it.name.len);
        pos = 0;
    }

    while (next_query_item(req->query, req->query_len, &pos, &it)) {
        const char *name;
        if (!slice_valid(&it.name) || (name = signed_subresource(&it.name)) == NULL)
            continue;
        if (!slice_valid(&it.value) || n == SIGV2_MAX_SUBRESOURCES)
            return -1;
        /* stable insertion by name: a repeated sub-resource keeps its order */
        size_t j = n++;
        while (j > 0 && strcmp(sub[j - 1].name, name) > 0) {
            sub[j] = sub[j - 1];
            j--;
        }
        sub[j] = (struct subresource){name, it};
    }
    for (size_t i = 0; i < n; i++) {
        text_out_char(o, i == 0 ? '?' : '&');
        text_out_bytes(o, sub[i].name, strlen(sub[i].name));
        if (sub[i].item.has_value) {
            text_out_char(o, '=');
            out_slice(o, &sub[i].item.value, 0);
        }
    }
    return 0;
}

long sigv2_string_to_sign(const sigv2_request_t *req, sigv2_form_t form, char *buf, size_t buf_len)
{
    text_out_t o = {buf, 0, 0, 0};

    if (buf_len == 0)
        return -1;
    o.cap = buf_len - 1; /* room for the NUL */

    text_out_bytes(&o, req->method, req->method_len);
    text_out_char(&o, '\n');
    out_standard_header(&o, find_header(req, "content-md5"));
    out_standard_header(&o, find_header(req, "content-type"));
    if (req->expires != NULL) {
        text_out_bytes(&o, req->expires, req->expires_len);
        text_out_char(&o, '\n');
    } else {
        /* x-amz-date takes precedence and is signed among the x-amz headers: the Date line stays empty */
        out_standard_header(&o, find_header(req, "x-amz-date") != NULL ? NULL : find_header(req, "date"));
    }
    if (out_amz_headers(&o, req) != 0 || out_resource(&o, req, form) != 0 || o.overflow)
        return -1;
    buf[o.len] = '\0';
    return (long)o.len;
}

/* ---- signing ---- */

void sigv2_sign(const char *secret, size_t secret_len, const char *string_to_sign, size_t len, char out[SIGV2_SIGNATURE_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    if (secret_len > INT_MAX ||
        HMAC(EVP_sha1(), secret, (int)secret_len, (const unsigned char *)string_to_sign, len, mac, &mac_len) == NULL ||
        mac_len != 20)
        abort();
    EVP_EncodeBlock((unsigned char *)out, mac, 20); /* 28 characters and a NUL */
    OPENSSL_cleanse(mac, sizeof(mac));
}

sigv2_status_t sigv2_verify(const sigv2_request_t *req, const char *secret, size_t secret_len, const char *signature,
                            size_t signature_len)
{
    static const sigv2_form_t forms[] = {SIGV2_FORM_AWS, SIGV2_FORM_BOTOCORE_AUTH_PATH};
    char sts[SIGV2_MAX_STRING_TO_SIGN];
    char expected[SIGV2_SIGNATURE_LEN + 1];
    sigv2_status_t st = SIGV2_MISMATCH;

    if (signature_len != SIGV2_SIGNATURE_LEN)
        return SIGV2_MISMATCH;
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]) && st != SIGV2_OK; i++) {
        long sts_len = sigv2_string_to_sign(req, forms[i], sts, sizeof(sts));
        if (sts_len < 0)
            continue; /* too large, undecodable or not applicable: no client could have signed what we would compute */
        sigv2_sign(secret, secret_len, sts, (size_t)sts_len, expected);
        if (CRYPTO_memcmp(expected, signature, SIGV2_SIGNATURE_LEN) == 0)
            st = SIGV2_OK;
    }
    OPENSSL_cleanse(expected, sizeof(expected));
    return st;
}

/* ---- Authorization header ---- */

static int is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

sigv2_status_t sigv2_parse_authorization(const char *value, size_t value_len, sigv2_auth_t *out)
{
    size_t pos = 3, key_start, key_len, sig_start, end = value_len;

    memset(out, 0, sizeof(*out));
    if (value_len < 4 || memcmp(value, "AWS", 3) != 0 || value[3] != ' ')
        return SIGV2_MALFORMED;
    while (pos < end && value[pos] == ' ')
        pos++;
    while (end > pos && value[end - 1] == ' ')
        end--;
    key_start = pos;
    while (pos < end && value[pos] != ':')
        pos++;
    if (pos == end)
        return SIGV2_MALFORMED;
    key_len = pos - key_start;
    sig_start = pos + 1;
    if (key_len == 0 || key_len >= sizeof(out->access_key) || sig_start == end || end - sig_start >= sizeof(out->signature))
        return SIGV2_MALFORMED;
    for (size_t i = key_start; i < end; i++)
        if (!is_token_char((unsigned char)value[i]) || (i > pos && value[i] == ':'))
            return SIGV2_MALFORMED;
    memcpy(out->access_key, value + key_start, key_len);
    memcpy(out->signature, value + sig_start, end - sig_start);
    return SIGV2_OK;
}

/* ---- HTTP dates ---- */

struct cursor {
    const char *s;
    size_t len, pos;
};

static int cur_char(struct cursor *c, char want)
{
    if (c->pos < c->len && c->s[c->pos] == want) {
        c->pos++;
        return 1;
    }
    return 0;
}

static void cur_spaces(struct cursor *c)
{
    while (c->pos < c->len && c->s[c->pos] == ' ')
        c->pos++;
}

/* Reads min..max decimal digits; -1 when fewer than min. */
static int cur_number(struct cursor *c, size_t min, size_t max)
{
    size_t n = 0;
    int v = 0;

    while (n < max && c->pos < c->len && c->s[c->pos] >= '0' && c->s[c->pos] <= '9') {
        v = v * 10 + (c->s[c->pos++] - '0');
        n++;
    }
    return n < min ? -1 : v;
}

/* Reads a run of letters; returns its length. */
static size_t cur_word(struct cursor *c, const char **word)
{
    size_t start = c->pos;

    while (c->pos < c->len && text_lower((unsigned char)c->s[c->pos]) >= 'a' && text_lower((unsigned char)c->s[c->pos]) <= 'z')
        c->pos++;
    *word = c->s + start;
    return c->pos - start;
}

static int cur_month(struct cursor *c)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    const char *w;

    if (cur_word(c, &w) != 3)
        return -1;
    for (int m = 0; m < 12; m++)
        if (text_lower((unsigned char)w[0]) == months[3 * m] && text_lower((unsigned char)w[1]) == months[3 * m + 1] &&
            text_lower((unsigned char)w[2]) == months[3 * m + 2])
            return m;
    return -1;
}

/* "HH:MM:SS" into tm. */
static int cur_time(struct cursor *c, struct tm *tm)
{
    if ((tm->tm_hour = cur_number(c, 2, 2)) < 0 || !cur_char(c, ':') || (tm->tm_min = cur_number(c, 2, 2)) < 0 ||
        !cur_char(c, ':') || (tm->tm_sec = cur_number(c, 2, 2)) < 0)
        return -1;
    return 0;
}

/* Reads the zone after the time into *offset (seconds east of UTC). Returns 0, or -1 for an unknown zone. */
static int cur_zone(struct cursor *c, long *offset)
{
    const char *w;
    size_t n;

    cur_spaces(c);
    if (c->pos < c->len && (c->s[c->pos] == '+' || c->s[c->pos] == '-')) {
        int sign = c->s[c->pos++] == '-' ? -1 : 1;
        int hhmm = cur_number(c, 4, 4);
        if (hhmm < 0 || hhmm / 100 > 23 || hhmm % 100 > 59)
            return -1;
        *offset = sign * ((hhmm / 100) * 3600L + (hhmm % 100) * 60L);
        return 0;
    }
    n = cur_word(c, &w);
    *offset = 0;
    if ((n == 3 && (memcmp(w, "GMT", 3) == 0 || memcmp(w, "UTC", 3) == 0)) || (n == 2 && memcmp(w, "UT", 2) == 0) ||
        (n == 1 && w[0] == 'Z'))
        return 0;
    return -1;
}

int sigv2_parse_http_date(const char *s, size_t len, time_t *out)
{
    struct cursor c = {s, len, 0};
    struct tm tm;
    long offset = 0;
    const char *w;
    int year;

    memset(&tm, 0, sizeof(tm));
    if (sigv4_parse_amz_date(s, len, out) == 0) /* "20070327T193642Z" */
        return 0;

    cur_spaces(&c);
    if (cur_word(&c, &w) != 0) {
        if (cur_char(&c, ',')) { /* RFC 1123 or RFC 850 after the weekday */
            cur_spaces(&c);
        } else { /* asctime: "Tue Mar 27 19:36:42 2007" */
            cur_spaces(&c);
            if ((tm.tm_mon = cur_month(&c)) < 0)
                return -1;
            cur_spaces(&c);
            if ((tm.tm_mday = cur_number(&c, 1, 2)) < 0 || !cur_char(&c, ' ') || cur_time(&c, &tm) != 0 || !cur_char(&c, ' ') ||
                (year = cur_number(&c, 4, 4)) < 0)
                return -1;
            tm.tm_year = year - 1900;
            cur_spaces(&c);
            if (c.pos != len)
                return -1;
            goto Done;
        }
    }
    if ((tm.tm_mday = cur_number(&c, 1, 2)) < 0)
        return -1;
    if (cur_char(&c, '-')) { /* RFC 850: "27-Mar-07" */
        if ((tm.tm_mon = cur_month(&c)) < 0 || !cur_char(&c, '-') || (year = cur_number(&c, 2, 4)) < 0)
            return -1;
        if (year < 100)
            year += year < 70 ? 2000 : 1900;
    } else { /* RFC 1123: "27 Mar 2007" */
        if (!cur_char(&c, ' ') || (tm.tm_mon = cur_month(&c)) < 0 || !cur_char(&c, ' ') || (year = cur_number(&c, 4, 4)) < 0)
            return -1;
    }
    tm.tm_year = year - 1900;
    if (!cur_char(&c, ' ') || cur_time(&c, &tm) != 0 || cur_zone(&c, &offset) != 0)
        return -1;
    cur_spaces(&c);
    if (c.pos != len)
        return -1;

Done:
    if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    *out = timegm(&tm) - offset;
    return 0;
}
