/* auth/postpolicy.c -- POST policy signatures and condition checks (AWS's "Browser-Based Uploads Using POST").
 *
 * DESIGN: the signature is checked over the policy field exactly as sent, so
 * a policy is only decoded once it is known to come from the key's owner.
 * Decoding is base64 (whitespace tolerated, as OpenSSL's decoder does), then
 * AWS's two escapes that JSON lacks ("\$" for a dollar sign, "\v" for a
 * vertical tab) are rewritten to JSON, then jansson parses the document.
 * Every condition is validated before any is evaluated, so a malformed
 * policy is InvalidPolicyDocument whatever the form holds.
 *
 * Matching follows AWS's documentation: field names ignore case, values do
 * not; a field the form lacks is the empty string (so ["starts-with",
 * "$field", ""] admits its absence); a starts-with on Content-Type applies to
 * each value of a comma-separated list; bucket is matched against the bucket
 * actually posted to; and every form field but the exempt ones
 * (x-amz-signature, signature, AWSAccessKeyId, file, policy, x-ignore-*) must
 * be named by at least one condition, else the upload is refused as S3 does
 * ("Extra input fields"). Messages are AWS's wording where it is known.
 */
#include "auth/postpolicy.h"
#include "auth/text.h"
#include "auth/sigv2.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define POLICY_PREFIX "Invalid according to Policy: "

typedef enum cond_op {
    COND_EQ,
    COND_STARTS_WITH,
    COND_RANGE,
} cond_op_t;

typedef struct cond {
    cond_op_t op;
    const char *name; /* without the '$'; borrowed from the JSON document */
    size_t name_len;
    const char *value;
    size_t value_len;
    uint64_t min, max; /* COND_RANGE */
} cond_t;

static int name_has_prefix(const char *a, size_t a_len, const char *prefix)
{
    size_t p_len = strlen(prefix);
    return a_len >= p_len && text_ieq_str(a, p_len, prefix);
}

int postpolicy_field_exempt(const char *name, size_t name_len)
{
    return text_ieq_str(name, name_len, "x-amz-signature") || text_ieq_str(name, name_len, "signature") ||
           text_ieq_str(name, name_len, "awsaccesskeyid") || text_ieq_str(name, name_len, "file") ||
           text_ieq_str(name, name_len, "policy") || name_has_prefix(name, name_len, "x-ignore-");
}

/* ------------------------------------------------------------------ signatures */

int postpolicy_verify_v4(const uint8_t key[SIGV4_KEY_LEN], const char *policy, size_t policy_len, const char *signature,
                         size_t signature_len)
{
    char expected[65], given[65];

    if (signature_len != 64)
        return 0;
    for (size_t i = 0; i < 64; i++) {
        if (sigv4_hex_digit((unsigned char)signature[i]) < 0)
            return 0;
        given[i] = (char)text_lower((unsigned char)signature[i]);
    }
    given[64] = '\0';
    sigv4_sign(key, policy, policy_len, expected);
    return CRYPTO_memcmp(expected, given, 64) == 0;
}

int postpolicy_verify_v2(const char *secret, size_t secret_len, const char *policy, size_t policy_len, const char *signature,
                         size_t signature_len)
{
    char expected[SIGV2_SIGNATURE_LEN + 1];
    sigv2_sign(secret, secret_len, policy, policy_len, expected);
    int ok = signature_len == SIGV2_SIGNATURE_LEN && CRYPTO_memcmp(expected, signature, SIGV2_SIGNATURE_LEN) == 0;
    OPENSSL_cleanse(expected, sizeof(expected));
    return ok;
}

int postpolicy_parse_credential(const char *credential, size_t len, sigv4_auth_t *auth)
{
    static const char placeholder[] = "0000000000000000000000000000000000000000000000000000000000000000";

    /* The presigned-URL parser checks the same credential shape; the other two arguments are placeholders. */
    return sigv4_parse_presigned(credential, len, "host", 4, placeholder, 64, auth) == SIGV4_OK ? 0 : -1;
}

/* ------------------------------------------------------------------ times */

static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int make_time(int year, int mon, int day, int hour, int min, int sec, time_t *out)
{
    struct tm tm = {0};
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    *out = timegm(&tm);
    return 0;
}

int postpolicy_parse_expiration(const char *s, size_t len, time_t *out)
{
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z')
        return -1;
    if (len > 20) { /* fractions of a second: ".f..." */
        if (s[19] != '.' || len == 21 || len - 21 > 9 || digits(s + 20, len - 21) < 0)
            return -1;
    }
    int year = digits(s, 4), mon = digits(s + 5, 2), day = digits(s + 8, 2);
    int hour = digits(s + 11, 2), min = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (year < 0 || mon < 0 || day < 0 || hour < 0 || min < 0 || sec < 0)
        return -1;
    return make_time(year, mon, day, hour, min, sec, out);
}

/* ------------------------------------------------------------------ decoding */

/* Base64-decodes src into a new NUL-terminated buffer. Returns it (free it), or NULL when src is not base64. */
static char *decode_base64(const char *src, size_t len, size_t *out_len)
{
    EVP_ENCODE_CTX *ctx;
    unsigned char *buf;
    int n = 0, tail = 0;

    if (len > (size_t)INT32_MAX / 2)
        return NULL;
    if ((buf = malloc(len / 4 * 3 + 4)) == NULL || (ctx = EVP_ENCODE_CTX_new()) == NULL)
        abort();
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *)src, (int)len) < 0 || EVP_DecodeFinal(ctx, buf + n, &tail) < 0) {
        EVP_ENCODE_CTX_free(ctx);
        free(buf);
        return NULL;
    }
    EVP_ENCODE_CTX_free(ctx);
    n += tail;
    buf[n] = '\0';
    *out_len = (size_t)n;
    return (char *)buf;
}

/*
 * Rewrites AWS's policy escapes that JSON does not have, inside strings: "\$" becomes "$" and
 * "\v" becomes "\u000b". Every other escape is left to the JSON parser. Returns a new buffer.
 */
static char *rewrite_escapes(const char *src, size_t len, size_t *out_len)
{
    char *dst = malloc(3 * len + 1);
    size_t n = 0;
    int in_string = 0;

    if (dst == NULL)
        abort();
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (in_string && c == '\\' && i + 1 < len) {
            char next = src[++i];
            if (next == '$') {
                dst[n++] = '$';
            } else if (next == 'v') {
                memcpy(dst + n, "\\u000b", 6);
                n += 6;
            } else {
                dst[n++] = '\\';
                dst[n++] = next;
            }
            continue;
        }
        if (c == '"')
            in_string = !in_string;
        dst[n++] = c;
    }
    dst[n] = '\0';
    *out_len = n;
    return dst;
}

/* ------------------------------------------------------------------ conditions */

__attribute__((format(printf, 2, 3))) static postpolicy_status_t invalid(postpolicy_result_t *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
    return POSTPOLICY_INVALID;
}

/* Fields that AWS documents as exact-match only. */
static int exact_only(const char *name, size_t len)
{
    return text_ieq_str(name, len, "bucket") || text_ieq_str(name, len, "success_action_status") ||
           text_ieq_str(name, len, "x-amz-algorithm") || text_ieq_str(name, len, "x-amz-credential") ||
           text_ieq_str(name, len, "x-amz-date") || text_ieq_str(name, len, "x-amz-security-token");
}

/* Reads a content-length-range bound: a non-negative integer, or a string of decimal digits. */
static int read_bound(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return -1;
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        uint64_t n = 0;
        if (len == 0 || len > 19)
            return -1;
        for (size_t i = 0; i < len; i++) {
            if (!isdigit((unsigned char)s[i]))
                return -1;
            n = n * 10 + (uint64_t)(s[i] - '0');
        }
        *out = n;
        return 0;
    }
    return -1;
}

/* Turns one element of "conditions" into cond_t entries (an object may hold several). Returns 0 or POSTPOLICY_INVALID. */
static postpolicy_status_t read_condition(const json_t *c, cond_t *conds, size_t *num, size_t cap, postpolicy_result_t *out)
{
    if (json_is_object(c)) {
        const char *key;
        json_t *v;
        if (json_object_size(c) == 0)
            return invalid(out, "Invalid Policy: Invalid Simple-Condition: an empty object.");
        json_object_foreach((json_t *)c, key, v)
        {
            if (!json_is_string(v))
                return invalid(out, "Invalid Policy: Invalid Simple-Condition: value of '%s' must be a string.", key);
            if (*num == cap)
                return invalid(out, "Invalid Policy: too many conditions.");
            conds[(*num)++] = (cond_t){COND_EQ, key, strlen(key), json_string_value(v), json_string_length(v), 0, 0};
        }
        return POSTPOLICY_OK;
    }
    if (!json_is_array(c) || json_array_size(c) == 0 || !json_is_string(json_array_get(c, 0)))
        return invalid(out, "Invalid Policy: Invalid Condition: a condition must be an object or a list naming an operation.");
    const char *op = json_string_value(json_array_get(c, 0));
    size_t op_len = json_string_length(json_array_get(c, 0));
    cond_t cond = {0};
    if (text_ieq_str(op, op_len, "content-length-range")) {
        if (json_array_size(c) != 3 || read_bound(json_array_get(c, 1), &cond.min) != 0 ||
            read_bound(json_array_get(c, 2), &cond.max) != 0)
            return invalid(out, "Invalid Policy: Invalid content-length-range condition: %s.",
                           "expected two non-negative integers");
        cond.op = COND_RANGE;
    } else if (text_ieq_str(op, op_len, "eq") || text_ieq_str(op, op_len, "starts-with")) {
        const json_t *field = json_array_get(c, 1), *value = json_array_get(c, 2);
        cond.op = text_ieq_str(op, op_len, "eq") ? COND_EQ : COND_STARTS_WITH;
        if (json_array_size(c) != 3 || !json_is_string(field) || !json_is_string(value))
            return invalid(out, "Invalid Policy: Invalid %s condition: expected a field name and a string value.", op);
        cond.name = json_string_value(field);
        cond.name_len = json_string_length(field);
        if (cond.name_len < 2 || cond.name[0] != '$')
            return invalid(out, "Invalid Policy: Invalid %s condition: the field name must start with '$'.", op);
        cond.name++;
        cond.name_len--;
        cond.value = json_string_value(value);
        cond.value_len = json_string_length(value);
        if (cond.op == COND_STARTS_WITH && exact_only(cond.name, cond.name_len))
            return invalid(out, "Invalid Policy: starts-with is not supported for field '$%s'; it allows exact matches only.",
                           cond.name);
    } else {
        return invalid(out, "Invalid Policy: Invalid Condition: unknown operation '%s'.", op);
    }
    if (*num == cap)
        return invalid(out, "Invalid Policy: too many conditions.");
    conds[(*num)++] = cond;
    return POSTPOLICY_OK;
}

/* The value a condition is checked against: the bucket posted to, the form's field, or "" when the form lacks it. */
static void field_value(const postpolicy_request_t *req, const char *name, size_t name_len, const char **v, size_t *v_len)
{
    if (text_ieq_str(name, name_len, "bucket")) {
        *v = req->bucket;
        *v_len = req->bucket_len;
        return;
    }
    for (size_t i = 0; i < req->num_fields; i++) {
        const postpolicy_field_t *f = &req->fields[i];
        if (text_ieq(f->name, f->name_len, name, name_len)) {
            *v = f->value;
            *v_len = f->value_len;
            return;
        }
    }
    *v = "";
    *v_len = 0;
}

static int has_prefix(const char *v, size_t v_len, const char *prefix, size_t prefix_len)
{
    return v_len >= prefix_len && memcmp(v, prefix, prefix_len) == 0;
}

/* starts-with on Content-Type: every value of a comma-separated list must start with the prefix. */
static int content_types_start_with(const char *v, size_t v_len, const char *prefix, size_t prefix_len)
{
    size_t start = 0;
    for (size_t i = 0; i <= v_len; i++) {
        if (i < v_len && v[i] != ',')
            continue;
        size_t b = start, e = i;
        while (b < e && (v[b] == ' ' || v[b] == '\t'))
            b++;
        while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (!has_prefix(v + b, e - b, prefix, prefix_len))
            return 0;
        start = i + 1;
    }
    return 1;
}

static int condition_holds(const postpolicy_request_t *req, const cond_t *c)
{
    const char *v;
    size_t v_len;

    field_value(req, c->name, c->name_len, &v, &v_len);
    if (c->op == COND_EQ)
        return v_len == c->value_len && memcmp(v, c->value, v_len) == 0;
    if (text_ieq_str(c->name, c->name_len, "content-type"))
        return content_types_start_with(v, v_len, c->value, c->value_len);
    return has_prefix(v, v_len, c->value, c->value_len);
}

postpolicy_status_t postpolicy_check(const postpolicy_request_t *req, postpolicy_result_t *out)
{
    postpolicy_status_t st = POSTPOLICY_OK;
    char *decoded = NULL, *text = NULL;
    size_t decoded_len, text_len, num_conds = 0, cap;
    json_t *root = NULL, *expiration, *conditions;
    json_error_t jerr;
    cond_t *conds = NULL;
    time_t expires;

    memset(out, 0, sizeof(*out));
    if ((decoded = decode_base64(req->policy, req->policy_len, &decoded_len)) == NULL) {
        st = invalid(out, "Invalid Policy: Invalid Base64 Encoding.");
        goto Exit;
    }
    text = rewrite_escapes(decoded, decoded_len, &text_len);
    if ((root = json_loadb(text, text_len, JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(root)) {
        st = invalid(out, "Invalid Policy: Invalid JSON.");
        goto Exit;
    }
    if ((expiration = json_object_get(root, "expiration")) == NULL) {
        st = invalid(out, "Invalid Policy: Policy missing expiration.");
        goto Exit;
    }
    if (!json_is_string(expiration) ||
        postpolicy_parse_expiration(json_string_value(expiration), json_string_length(expiration), &expires) != 0) {
        st = invalid(out, "Invalid Policy: Invalid 'expiration' value: '%s'.",
                     json_is_string(expiration) ? json_string_value(expiration) : "");
        goto Exit;
    }
    if ((conditions = json_object_get(root, "conditions")) == NULL) {
        st = invalid(out, "Invalid Policy: Policy missing conditions.");
        goto Exit;
    }
    if (!json_is_array(conditions)) {
        st = invalid(out, "Invalid Policy: Invalid 'conditions' value: must be a List.");
        goto Exit;
    }
    cap = 0;
    for (size_t i = 0; i < json_array_size(conditions); i++) {
        const json_t *c = json_array_get(conditions, i);
        cap += json_is_object(c) ? json_object_size(c) : 1;
    }
    if ((conds = calloc(cap + 1, sizeof(*conds))) == NULL)
        abort();
    for (size_t i = 0; i < json_array_size(conditions); i++) {
        if ((st = read_condition(json_array_get(conditions, i), conds, &num_conds, cap, out)) != POSTPOLICY_OK)
            goto Exit;
    }

    if (req->now >= expires) {
        snprintf(out->message, sizeof(out->message), POLICY_PREFIX "Policy expired.");
        st = POSTPOLICY_EXPIRED;
        goto Exit;
    }
    for (size_t i = 0; i < num_conds; i++) {
        const cond_t *c = &conds[i];
        if (c->op == COND_RANGE) {
            /* Several ranges all apply: keep their intersection. */
            if (!out->has_length_range || c->min > out->min_length)
                out->min_length = c->min;
            if (!out->has_length_range || c->max < out->max_length)
                out->max_length = c->max;
            out->has_length_range = 1;
            continue;
        }
        if (!condition_holds(req, c)) {
            snprintf(out->message, sizeof(out->message), POLICY_PREFIX "Policy Condition failed: [\"%s\", \"$%.*s\", \"%.*s\"]",
                     c->op == COND_EQ ? "eq" : "starts-with", (int)c->name_len, c->name, (int)c->value_len, c->value);
            st = POSTPOLICY_CONDITION_FAILED;
            goto Exit;
        }
    }
    for (size_t i = 0; i < req->num_fields; i++) {
        const postpolicy_field_t *f = &req->fields[i];
        int covered = postpolicy_field_exempt(f->name, f->name_len);
        for (size_t k = 0; k < num_conds && !covered; k++)
            covered = conds[k].op != COND_RANGE && text_ieq(conds[k].name, conds[k].name_len, f->name, f->name_len);
        if (!covered) {
            snprintf(out->message, sizeof(out->message), POLICY_PREFIX "Extra input fields: %.*s", (int)f->name_len, f->name);
            st = POSTPOLICY_EXTRA_FIELD;
            goto Exit;
        }
    }
    out->message[0] = '\0';

Exit:
    free(conds);
    json_decref(root);
    free(text);
    free(decoded);
    return st;
}
