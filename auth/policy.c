/* auth/policy.c -- bucket policies: parsed and validated once, evaluated per request.
 *
 * DESIGN: policy_parse walks the jansson tree once, validates every element
 * the way PutBucketPolicy does (AWS's messages where they are known; an
 * action must name, or as a pattern match, one of POLICY_S3_ACTIONS) and
 * copies what evaluation needs into a few flat arrays that refer to each
 * other by index: statements -> principals, patterns (actions, resources,
 * string condition values) -> segments -> one text pool, and conditions ->
 * parsed values (numbers, instants, CIDR ranges, booleans). No jansson object
 * survives the parse. policy_evaluate only reads that structure, so it is
 * thread-safe on a shared policy and allocates nothing.
 *
 * Matching. Actions match case-insensitively, resources and string values
 * case-sensitively, with '*' (any run) and '?' (one UTF-8 character, or one
 * byte where the bytes are not UTF-8) as wildcards, and never recursively.
 * A pattern of one segment (nearly all of them) is matched straight from the
 * text pool: its first '*'-free piece anchors at the start, its last at the
 * end, and each piece between takes its leftmost place. Otherwise a
 * pattern is a list of segments: glob text, literal text (the ${*} ${?} ${$}
 * escapes) and policy variables (Version 2012-10-17 only: ${key} or
 * ${key, 'default'}), whose values are looked up in the request context at
 * match time and always compare literally (a '*' in a user name is not a
 * wildcard); those go through the iterative two-pointer algorithm. Either
 * way one evaluation has a work budget (EVAL_BUDGET) that caps what a policy
 * written to be slow can cost; past it a pattern is MAYBE, as below.
 *
 * Unresolvable variables. AWS says a variable it cannot resolve "might cause
 * the entire statement to be invalid". We read that fail-closed, with
 * three-valued logic: a Resource or condition value holding a variable whose
 * key is absent (and that has no default) is MAYBE when the pattern could
 * match for some value of the variable (tested by letting the variable stand
 * for '*'), else NO. MAYBE goes through NOT (NotResource, StringNotEquals...)
 * unchanged, and a statement that ends up MAYBE applies if it is a Deny and
 * does not if it is an Allow: a missing key can never widen what a policy
 * grants nor narrow what it denies.
 *
 * Conditions follow the IAM evaluation logic: operators AND, keys AND,
 * values OR (a negated operator negates the OR: StringNotEquals holds when
 * the request value equals none of the values). A key absent from the
 * context makes a positive operator false and a negated one true; IfExists
 * and ForAllValues: make it true, ForAnyValue: false. Context keys are single
 * valued, so the set qualifiers change nothing else. A request value that
 * does not parse as the operator's type (number, date, address, boolean)
 * matches no value.
 */
#include "auth/policy.h"
#include "auth/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define ARN_S3 "arn:aws:s3:::"
#define ARN_S3_LEN (sizeof(ARN_S3) - 1)
#define ARN_IAM "arn:aws:iam::"
#define ARN_IAM_LEN (sizeof(ARN_IAM) - 1)

/* Refused unread, however much of it is whitespace: the scan and the parse stay bounded whatever the caller lets through. */
#define POLICY_MAX_RAW (10 * POLICY_MAX_SIZE)

/* AWS's wording, from PutBucketPolicy answers. */
#define MSG_TOO_LARGE "Policy exceeds the maximum allowed document size."
#define MSG_INVALID_JSON "This policy contains invalid Json"
#define MSG_BAD_VERSION "The policy must contain a valid version string"
#define MSG_NO_STATEMENT "Missing required field Statement"
#define MSG_EMPTY_STATEMENT "Could not parse the policy: Statement is empty!"
#define MSG_BAD_PRINCIPAL "Invalid principal in policy"
#define MSG_BAD_ACTION "Policy has invalid action"
#define MSG_BAD_RESOURCE "Policy has invalid resource"
#define MSG_BAD_CONDITION_KEY "Policy has an invalid condition key"
#define MSG_BAD_IP "Invalid IP address in Conditions"
#define MSG_DUPLICATE_SID "Statement IDs (SID) in a single policy must be unique"

/* ------------------------------------------------------------------ the parsed form */

enum seg_kind {
    SEG_GLOB, /* text in which '*' and '?' are wildcards */
    SEG_LIT,  /* text matched byte for byte */
    SEG_VAR,  /* a policy variable: its context value, matched byte for byte */
};

typedef struct seg {
    uint8_t kind;
    uint8_t has_default;
    uint32_t off, len;         /* the text, or the variable's key, in the text pool */
    uint32_t def_off, def_len; /* SEG_VAR with has_default: the value used when the key is absent */
} seg_t;

typedef struct pattern {
    uint32_t first_seg, num_segs;
    uint8_t icase;    /* ASCII case ignored (actions, ...IgnoreCase) */
    uint8_t has_vars; /* holds a SEG_VAR */
    uint8_t fixed;    /* no variable and no '*' or '?' at all: a fixed value for policy_is_public */
} pattern_t;

enum principal_kind {
    PRINCIPAL_ANY,       /* "*": everyone, anonymous included */
    PRINCIPAL_USER,      /* arn:aws:iam::<account>:user/<name> */
    PRINCIPAL_ROOT,      /* arn:aws:iam::<account>:root or a bare account id: the user named "root" */
    PRINCIPAL_CANONICAL, /* a 64-hex canonical user id */
    PRINCIPAL_SERVICE,   /* {"Service": ...}: accepted, matches no Coffer request */
};

typedef struct principal {
    uint8_t kind;
    uint32_t off, len; /* USER: the name; CANONICAL: the id */
} principal_t;

enum cond_family { FAM_STRING, FAM_NUMERIC, FAM_DATE, FAM_BOOL, FAM_IP, FAM_NULL };
enum cond_cmp { CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum cond_qualifier { QUAL_NONE, QUAL_ANY, QUAL_ALL };

typedef struct ip_range {
    uint8_t family; /* 4 or 6 */
    uint8_t prefix; /* bits that must match */
    uint8_t addr[16];
} ip_range_t;

typedef struct cond_value {
    uint32_t pattern; /* FAM_STRING */
    int boolean;      /* FAM_BOOL, FAM_NULL */
    double num;       /* FAM_NUMERIC */
    int64_t ms;       /* FAM_DATE: milliseconds since the epoch */
    ip_range_t ip;    /* FAM_IP */
} cond_value_t;

typedef struct cond {
    uint8_t family, cmp, negate, if_exists, qualifier;
    uint8_t pins; /* a positive string/IP operator: can make a grant non-public */
    uint32_t key_off, key_len;
    uint32_t first_value, num_values;
} cond_t;

typedef struct stmt {
    uint8_t deny, not_principal, not_action, not_resource;
    uint32_t first_principal, num_principals;
    uint32_t first_action, num_actions;     /* patterns */
    uint32_t first_resource, num_resources; /* patterns */
    uint32_t first_cond, num_conds;
} stmt_t;

#define VEC(type)                                                                                                                  \
    struct {                                                                                                                       \
        type *items;                                                                                                               \
        size_t num, cap;                                                                                                           \
    }

struct policy {
    int variables; /* Version 2012-10-17: ${...} are policy variables */
    VEC(stmt_t) stmts;
    VEC(principal_t) principals;
    VEC(pattern_t) patterns;
    VEC(seg_t) segs;
    VEC(cond_t) conds;
    VEC(cond_value_t) values;
    VEC(char) text; /* every string the policy keeps, each NUL-terminated */
};

static void *vec_grow(void *items, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 8;

    if (need <= *cap)
        return items;
    while (n < need)
        n *= 2;
    if ((items = realloc(items, n * size)) == NULL)
        abort();
    *cap = n;
    return items;
}

/* Appends a zeroed element and yields its index (pointers into the vector die with the next push). */
#define VEC_PUSH(v)                                                                                                                \
    ((v).items = vec_grow((v).items, &(v).cap, (v).num + 1, sizeof(*(v).items)),                                                   \
     memset(&(v).items[(v).num], 0, sizeof(*(v).items)), (v).num++)

static uint32_t add_text(policy_t *p, const char *s, size_t len)
{
    size_t off = p->text.num;

    p->text.items = vec_grow(p->text.items, &p->text.cap, off + len + 1, 1);
    memcpy(p->text.items + off, s, len);
    p->text.items[off + len] = '\0';
    p->text.num += len + 1;
    return (uint32_t)off;
}

static const char *text_at(const policy_t *p, uint32_t off)
{
    return p->text.items + off;
}

void policy_free(policy_t *p)
{
    if (p == NULL)
        return;
    free(p->stmts.items);
    free(p->principals.items);
    free(p->patterns.items);
    free(p->segs.items);
    free(p->conds.items);
    free(p->values.items);
    free(p->text.items);
    free(p);
}

/* ------------------------------------------------------------------ small scanners (policy and request values) */

/* Bytes of the character at s: a whole UTF-8 sequence, or 1 where the bytes are not one. */
static size_t char_len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t want = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 1;

    if (c >= 0xf5 || want > n)
        return 1;
    for (size_t i = 1; i < want; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            return 1;
    }
    return want;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)s[i]))
            return 0;
    }
    return len > 0;
}

static int has_prefix_icase(const char *s, size_t len, const char *prefix)
{
    size_t p_len = strlen(prefix);
    return len >= p_len && text_ieq(s, p_len, prefix, p_len);
}

/* "true" or "false", either case. Returns 0 or -1. */
static int parse_bool(const char *s, size_t len, int *out)
{
    if (text_ieq_str(s, len, "true"))
        *out = 1;
    else if (text_ieq_str(s, len, "false"))
        *out = 0;
    else
        return -1;
    return 0;
}

/*
 * A decimal number: [+-]digits[.digits][e[+-]digits] (either side of the point may be empty, not both).
 * Computed by hand rather than with strtod, whose decimal point follows the locale. Returns 0 or -1.
 */
static int parse_number(const char *s, size_t len, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    uint64_t sig = 0;
    int sig_digits = 0, digits = 0, neg = 0;
    long exp10 = 0;
    size_t i = 0;

    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < len && is_digit((unsigned char)s[i]); i++, digits++) {
        if (sig_digits < 19) {
            sig = sig * 10 + (uint64_t)(s[i] - '0');
            sig_digits += sig != 0;
        } else {
            exp10++;
        }
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && is_digit((unsigned char)s[i]); i++, digits++) {
            if (sig_digits < 19) {
                sig = sig * 10 + (uint64_t)(s[i] - '0');
                sig_digits += sig != 0;
                exp10--;
            }
        }
    }
    if (digits == 0)
        return -1;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        long e = 0;
        int e_neg = 0, e_digits = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            e_neg = s[i++] == '-';
        for (; i < len && is_digit((unsigned char)s[i]); i++, e_digits++) {
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        }
        if (e_digits == 0)
            return -1;
        exp10 += e_neg ? -e : e;
    }
    if (i != len)
        return -1;
    while (sig != 0 && sig % 10 == 0) {
        sig /= 10;
        exp10++;
    }
    double v = (double)sig;
    if (sig != 0) {
        /* sig and 10^k (k <= 22) are exact doubles, so one step rounds once: "5.5" and "5.50" agree. */
        for (; exp10 > 22 && v < 1e308; exp10 -= 22)
            v *= 1e22;
        for (; exp10 < -22 && v > 0; exp10 += 22)
            v /= 1e22;
        if (exp10 > 0 && exp10 <= 22)
            v *= p10[exp10];
        else if (exp10 < 0 && exp10 >= -22)
            v /= p10[-exp10];
    }
    *out = neg ? -v : v;
    return 0;
}

static int parse_fixed(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/*
 * A Date operand: epoch seconds ("1563278400", "1563278400.5") or ISO 8601 in the extended form,
 * YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|+hh:mm|-hh:mm|+hhmm|+hh] (no zone: UTC). Returns 0 or -1.
 */
static int parse_date(const char *s, size_t len, int64_t *out_ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off_min = 0;
    size_t i;

    if (len > 0 && is_digit((unsigned char)s[0]) && (len < 5 || s[4] != '-')) {
        int64_t secs = 0;
        int frac_digits = 0;
        for (i = 0; i < len && is_digit((unsigned char)s[i]); i++) {
            if (i >= 15) /* beyond year 30 million */
                return -1;
            secs = secs * 10 + (s[i] - '0');
        }
        if (i < len && s[i] == '.') {
            for (i++; i < len && is_digit((unsigned char)s[i]); i++, frac_digits++) {
                if (frac_digits < 3)
                    ms = ms * 10 + (s[i] - '0');
            }
            if (frac_digits == 0)
                return -1;
            for (int k = frac_digits; k < 3; k++)
                ms *= 10;
        }
        if (i != len)
            return -1;
        *out_ms = secs * 1000 + ms;
        return 0;
    }
    if (len < 10 || s[4] != '-' || s[7] != '-' || parse_fixed(s, 4, &y) || parse_fixed(s + 5, 2, &mo) || parse_fixed(s + 8, 2, &d))
        return -1;
    i = 10;
    if (i < len && (s[i] == 'T' || s[i] == 't')) {
        if (len < i + 6 || s[i + 3] != ':' || parse_fixed(s + i + 1, 2, &h) || parse_fixed(s + i + 4, 2, &mi))
            return -1;
        i += 6;
        if (i < len && s[i] == ':') {
            if (len < i + 3 || parse_fixed(s + i + 1, 2, &sec))
                return -1;
            i += 3;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                int frac_digits = 0;
                for (i++; i < len && is_digit((unsigned char)s[i]); i++, frac_digits++) {
                    if (frac_digits < 3)
                        ms = ms * 10 + (s[i] - '0');
                }
                if (frac_digits == 0)
                    return -1;
                for (int k = frac_digits; k < 3; k++)
                    ms *= 10;
            }
        }
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int oh, om = 0, sign = s[i] == '-' ? -1 : 1;
            if (len < i + 3 || parse_fixed(s + i + 1, 2, &oh))
                return -1;
            i += 3;
            if (i < len && s[i] == ':')
                i++;
            if (i < len) {
                if (len < i + 2 || parse_fixed(s + i, 2, &om))
                    return -1;
                i += 2;
            }
            if (oh > 23 || om > 59)
                return -1;
            off_min = sign * (oh * 60 + om);
        }
    }
    if (i != len)
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off_min * 60;
    *out_ms = secs * 1000 + ms;
    return 0;
}

/*
 * An IPv4 or IPv6 address, with "/bits" when cidr_ok (a bare address is /32 or /128). An IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) given without a prefix is taken as the IPv4 address. Returns 0 or -1.
 */
static int parse_ip(const char *s, size_t len, int cidr_ok, ip_range_t *out)
{
    char buf[64];
    const char *slash = memchr(s, '/', len);
    size_t addr_len = slash ? (size_t)(slash - s) : len;
    int bits = -1;

    memset(out, 0, sizeof(*out));
    if (addr_len == 0 || addr_len >= sizeof(buf) || (slash && !cidr_ok))
        return -1;
    if (slash) {
        size_t n = len - addr_len - 1;
        if (n == 0 || n > 3 || parse_fixed(slash + 1, n, &bits))
            return -1;
    }
    memcpy(buf, s, addr_len);
    buf[addr_len] = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = 4;
        if (bits > 32)
            return -1;
        out->prefix = (uint8_t)(bits < 0 ? 32 : bits);
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        out->family = 6;
        if (bits > 128)
            return -1;
        out->prefix = (uint8_t)(bits < 0 ? 128 : bits);
        if (bits < 0 && memcmp(out->addr, v4mapped, 12) == 0) {
            memmove(out->addr, out->addr + 12, 4);
            memset(out->addr + 4, 0, 12);
            out->family = 4;
            out->prefix = 32;
        }
    } else {
        return -1;
    }
    return 0;
}

static int ip_in_range(const ip_range_t *range, const ip_range_t *addr)
{
    unsigned full = range->prefix / 8, rest = range->prefix % 8;

    if (range->family != addr->family || memcmp(range->addr, addr->addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (range->addr[full] & mask) == (addr->addr[full] & mask);
}

/* ------------------------------------------------------------------ the request context */

/* The value of a context key (case-insensitive), with aws:username and aws:userid defaulting to the caller. */
static int ctx_lookup(const policy_request_t *req, const char *key, size_t key_len, const char **val, size_t *val_len)
{
    for (size_t i = 0; i < req->num_ctx; i++) {
        const policy_kv_t *kv = &req->ctx[i];
        if (kv->key != NULL && kv->value != NULL && text_ieq(key, key_len, kv->key, strlen(kv->key))) {
            *val = kv->value;
            *val_len = strlen(kv->value);
            return 1;
        }
    }
    if (!req->anonymous) {
        const char *v = NULL;
        if (text_ieq_str(key, key_len, "aws:username"))
            v = req->user_name;
        else if (text_ieq_str(key, key_len, "aws:userid"))
            v = req->canonical_id;
        if (v != NULL) {
            *val = v;
            *val_len = strlen(v);
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ wildcard matching over segments */

typedef enum { TRI_NO = 0, TRI_YES = 1, TRI_MAYBE = 2 } tri_t;

static tri_t tri_not(tri_t a)
{
    return a == TRI_MAYBE ? a : a == TRI_YES ? TRI_NO : TRI_YES;
}

static tri_t tri_and(tri_t a, tri_t b)
{
    return a == TRI_NO || b == TRI_NO ? TRI_NO : a == TRI_MAYBE || b == TRI_MAYBE ? TRI_MAYBE : TRI_YES;
}

static tri_t tri_or(tri_t a, tri_t b)
{
    return a == TRI_YES || b == TRI_YES ? TRI_YES : a == TRI_MAYBE || b == TRI_MAYBE ? TRI_MAYBE : TRI_NO;
}

enum { EL_END = -1, EL_STAR = -2, EL_QMARK = -3 };
enum { CUR_UNRESOLVED = 3 }; /* a cursor's segment kind besides SEG_GLOB and SEG_LIT: a variable standing for '*' */

/* What one evaluation carries besides the policy: the request, and the matching work it has left. */
typedef struct eval {
    const policy_t *p;
    const policy_request_t *req;
    size_t budget; /* matching work left (EVAL_BUDGET) */
} eval_t;

/*
 * Work one evaluation may do matching patterns, in units of about one byte compare: a step of the
 * general matcher counts 3, a call to check a piece 3 more than its compares, a memchr 4 plus a
 * sixteenth of the bytes it skips. A policy holds at most 20 KB of patterns and a
 * resource about 1 KB, so a policy built to be slow could otherwise cost ~10^7 compares per request;
 * this caps it at a few milliseconds. An honest policy of 112 statements, each with a variable and a
 * mid-'*' resource, against a 1 KB key made of "a/a/a/..." (the requester picks the key) uses about
 * half. Running out is fail-closed: the pattern is MAYBE, so no Allow is granted and any Deny still
 * in question applies; a requester can only make their own request fail.
 */
#define EVAL_BUDGET (1u << 20)
#define MATCH_OUT_OF_BUDGET (-2)

static int spend(size_t *budget, size_t steps)
{
    if (*budget < steps) {
        *budget = 0;
        return -1;
    }
    *budget -= steps;
    return 0;
}

/* ---- the flat matcher: a pattern of one glob or literal segment, matched straight from the text pool */

/*
 * Bytes of s matched by the '*'-free piece p[0..k) anchored at s: >= 0, -1 when it does not match,
 * MATCH_OUT_OF_BUDGET. '?' takes one character.
 */
static long piece_match(const char *p, size_t k, const char *s, size_t n, int icase, size_t *budget)
{
    size_t si = 0, i;
    long ret = -1;

    for (i = 0; i < k; i++) {
        unsigned char pc = (unsigned char)p[i];
        if (si >= n)
            goto Exit;
        if (pc == '?')
            si += char_len(s + si, n - si);
        else if (pc == (unsigned char)s[si] || (icase && text_lower(pc) == text_lower((unsigned char)s[si])))
            si++;
        else
            goto Exit;
    }
    ret = (long)si;
Exit:
    return spend(budget, i + 3) == 0 ? ret : MATCH_OUT_OF_BUDGET; /* a call costs about three compares */
}

/*
 * The leftmost match of a non-empty piece in s[from..n): *end is where it stops. Returns 0, -1 or
 * MATCH_OUT_OF_BUDGET. Candidates are found with memchr on the piece's first byte, each then checked
 * in full: cheap on real keys, and on keys built to match almost everywhere the budget ends it.
 */
static int piece_find(const char *p, size_t k, const char *s, size_t n, size_t from, int icase, size_t *budget, size_t *end)
{
    size_t pos = from;

    while (pos < n) {
        if (!icase && p[0] != '?') {
            const char *hit = memchr(s + pos, p[0], n - pos);
            size_t to = hit != NULL ? (size_t)(hit - s) : n;
            if (spend(budget, 4 + (to - pos) / 16) != 0)
                return MATCH_OUT_OF_BUDGET;
            if (hit == NULL)
                return -1;
            pos = to;
        }
        long c = piece_match(p, k, s + pos, n - pos, icase, budget);
        if (c == MATCH_OUT_OF_BUDGET)
            return MATCH_OUT_OF_BUDGET;
        if (c >= 0) {
            *end = pos + (size_t)c;
            return 0;
        }
        pos += char_len(s + pos, n - pos);
    }
    return -1;
}

/*
 * Whether the glob p[0..m) matches s[0..n) whole: the piece before the first '*' anchors at the start,
 * the piece after the last '*' at the end, and each piece between takes its leftmost place (which
 * leaves the most room to the rest). Returns 1, 0 or MATCH_OUT_OF_BUDGET.
 */
static int flat_glob(const char *p, size_t m, const char *s, size_t n, int icase, size_t *budget)
{
    const char *first = memchr(p, '*', m), *last, *tail;
    size_t si, tail_len;
    long c;
    int r;

    if (first == NULL) {
        c = piece_match(p, m, s, n, icase, budget);
        return c == MATCH_OUT_OF_BUDGET ? MATCH_OUT_OF_BUDGET : c >= 0 && (size_t)c == n;
    }
    if ((c = piece_match(p, (size_t)(first - p), s, n, icase, budget)) < 0)
        return c == MATCH_OUT_OF_BUDGET ? MATCH_OUT_OF_BUDGET : 0;
    si = (size_t)c;
    last = memrchr(p, '*', m);
    for (const char *piece = first + 1; piece <= last;) {
        const char *star = memchr(piece, '*', (size_t)(last - piece) + 1);
        if (star > piece && (r = piece_find(piece, (size_t)(star - piece), s, n, si, icase, budget, &si)) != 0)
            return r == MATCH_OUT_OF_BUDGET ? MATCH_OUT_OF_BUDGET : 0;
        piece = star + 1;
    }
    tail = last + 1;
    tail_len = (size_t)(p + m - tail);
    if (memchr(tail, '?', tail_len) == NULL) { /* fixed length: it can only sit at the end */
        if (n - si < tail_len)
            return 0;
        c = piece_match(tail, tail_len, s + n - tail_len, tail_len, icase, budget);
        return c == MATCH_OUT_OF_BUDGET ? MATCH_OUT_OF_BUDGET : c == (long)tail_len;
    }
    for (size_t pos = si; pos < n; pos += char_len(s + pos, n - pos)) {
        if ((c = piece_match(tail, tail_len, s + pos, n - pos, icase, budget)) == MATCH_OUT_OF_BUDGET)
            return MATCH_OUT_OF_BUDGET;
        if (c >= 0 && (size_t)c == n - pos)
            return 1;
    }
    return 0;
}

/* ---- the general matcher: segments of glob text, literal text and variables */

/* A position in a pattern; copied by value to remember where the last '*' was. */
typedef struct cursor {
    const policy_t *p;
    const policy_request_t *req;
    const seg_t *seg, *end; /* the next segment to load, and the end */
    const char *s;          /* the loaded segment's bytes */
    size_t len, off;
    int kind;
} cursor_t;

/* Moves to the next segment that has an element left (a variable resolves here; an empty one is skipped). */
static void cursor_settle(cursor_t *c)
{
    while (c->off >= c->len && c->seg != c->end) {
        const seg_t *sg = c->seg++;
        c->off = 0;
        if (sg->kind != SEG_VAR) {
            c->kind = sg->kind;
            c->s = text_at(c->p, sg->off);
            c->len = sg->len;
        } else if (ctx_lookup(c->req, text_at(c->p, sg->off), sg->len, &c->s, &c->len)) {
            c->kind = SEG_LIT;
        } else if (sg->has_default) {
            c->kind = SEG_LIT;
            c->s = text_at(c->p, sg->def_off);
            c->len = sg->def_len;
        } else {
            c->kind = CUR_UNRESOLVED;
            c->s = NULL;
            c->len = 1;
        }
    }
}

static void cursor_init(cursor_t *c, const eval_t *ev, const pattern_t *pat)
{
    memset(c, 0, sizeof(*c));
    c->p = ev->p;
    c->req = ev->req;
    c->seg = ev->p->segs.items + pat->first_seg;
    c->end = c->seg + pat->num_segs;
    cursor_settle(c);
}

/* The element under the cursor: EL_END, EL_STAR, EL_QMARK or a byte. */
static int cursor_peek(const cursor_t *c)
{
    if (c->off >= c->len)
        return EL_END;
    if (c->kind == CUR_UNRESOLVED)
        return EL_STAR;
    int ch = (unsigned char)c->s[c->off];
    if (c->kind == SEG_GLOB && ch == '*')
        return EL_STAR;
    if (c->kind == SEG_GLOB && ch == '?')
        return EL_QMARK;
    return ch;
}

static void cursor_next(cursor_t *c)
{
    c->off++;
    cursor_settle(c);
}

/*
 * Whether the pattern under p matches s[0..n) whole: the iterative two-pointer match, greedy with
 * backtracking to the last '*' only (a later '*' absorbs whatever an earlier one would have), so at
 * most O(|pattern| x n) steps, each charged to *budget. Returns 1, 0 or MATCH_OUT_OF_BUDGET.
 */
static int glob_match(cursor_t p, const char *s, size_t n, int icase, size_t *budget)
{
    cursor_t star;
    size_t si = 0, star_si = 0;
    int have_star = 0;

    memset(&star, 0, sizeof(star));
    while (si < n) {
        int el = cursor_peek(&p);
        if (spend(budget, 3) != 0) /* a step here costs about three compares of the flat matcher */
            return MATCH_OUT_OF_BUDGET;
        if (el == EL_STAR) {
            cursor_next(&p);
            if (cursor_peek(&p) == EL_END)
                return 1; /* a trailing '*' takes the rest */
            star = p;
            star_si = si;
            have_star = 1;
        } else if (el == EL_QMARK) {
            cursor_next(&p);
            si += char_len(s + si, n - si);
        } else if (el >= 0 && (el == (unsigned char)s[si] || (icase && text_lower(el) == text_lower((unsigned char)s[si])))) {
            cursor_next(&p);
            si++;
        } else if (have_star) {
            star_si += char_len(s + star_si, n - star_si);
            si = star_si;
            p = star;
        } else {
            return 0;
        }
    }
    while (cursor_peek(&p) == EL_STAR)
        cursor_next(&p);
    return cursor_peek(&p) == EL_END;
}

/* Whether every variable of a pattern has a value (from the context, or its default). */
static int vars_resolved(const eval_t *ev, const pattern_t *pat)
{
    for (uint32_t i = 0; i < pat->num_segs; i++) {
        const seg_t *sg = &ev->p->segs.items[pat->first_seg + i];
        const char *v;
        size_t v_len;
        if (sg->kind == SEG_VAR && !sg->has_default && !ctx_lookup(ev->req, text_at(ev->p, sg->off), sg->len, &v, &v_len))
            return 0;
    }
    return 1;
}

/* YES or NO; MAYBE when a variable has no value and the pattern matches with the variable read as '*'. */
static tri_t pattern_match(eval_t *ev, uint32_t pattern, const char *s, size_t n)
{
    const pattern_t *pat = &ev->p->patterns.items[pattern];
    cursor_t c;
    int resolved, m;

    if (pat->num_segs == 0)
        return n == 0 ? TRI_YES : TRI_NO;
    if (pat->num_segs == 1 && ev->p->segs.items[pat->first_seg].kind != SEG_VAR) {
        const seg_t *sg = &ev->p->segs.items[pat->first_seg];
        const char *t = text_at(ev->p, sg->off);
        if (sg->kind == SEG_LIT)
            return (pat->icase ? text_ieq(t, sg->len, s, n) : sg->len == n && memcmp(t, s, n) == 0) ? TRI_YES : TRI_NO;
        m = flat_glob(t, sg->len, s, n, pat->icase, &ev->budget);
        return m == MATCH_OUT_OF_BUDGET ? TRI_MAYBE : m ? TRI_YES : TRI_NO;
    }
    resolved = !pat->has_vars || vars_resolved(ev, pat);
    cursor_init(&c, ev, pat);
    if ((m = glob_match(c, s, n, pat->icase, &ev->budget)) == MATCH_OUT_OF_BUDGET)
        return TRI_MAYBE; /* fail closed */
    if (m == 0)
        return TRI_NO;
    return resolved ? TRI_YES : TRI_MAYBE;
}

/* ------------------------------------------------------------------ parsing */

typedef struct parser {
    policy_t *p;
    const char *bucket;
    int known_actions; /* actions must match POLICY_S3_ACTIONS (policy_parse), or need not (policy_parse_stored) */
    char *err;
    size_t err_len;
} parser_t;

static int fail(parser_t *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(parser_t *ps, const char *fmt, ...)
{
    va_list ap;

    if (ps->err_len > 0) {
        va_start(ap, fmt);
        vsnprintf(ps->err, ps->err_len, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Policy text quoted in a message: at most 64 bytes, control bytes as '?', so the message stays one line. */
static const char *excerpt(const char *s, char buf[72])
{
    size_t n = 0;
    for (; s[n] != '\0' && n < 64; n++)
        buf[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    if (s[n] != '\0') {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* Bytes of a document outside insignificant whitespace: what AWS holds to its size limit. */
static size_t compact_size(const char *s, size_t len)
{
    size_t n = 0;
    int in_string = 0, escaped = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            n++;
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            n++;
            in_string = c == '"';
        }
    }
    return n;
}

/* The number of strings in a "string or non-empty array of strings" value, or 0 when it is not one. */
static size_t string_list_size(const json_t *v)
{
    if (json_is_string(v))
        return 1;
    if (!json_is_array(v))
        return 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (!json_is_string(json_array_get(v, i)))
            return 0;
    }
    return json_array_size(v);
}

static const json_t *string_list_get(const json_t *v, size_t i)
{
    return json_is_string(v) ? v : json_array_get(v, i);
}

static void push_seg(policy_t *p, pattern_t *pat, int kind, const char *s, size_t len)
{
    if (len == 0)
        return;
    size_t i = VEC_PUSH(p->segs);
    p->segs.items[i].kind = (uint8_t)kind;
    p->segs.items[i].off = add_text(p, s, len);
    p->segs.items[i].len = (uint32_t)len;
    pat->num_segs++;
    if (memchr(s, '*', len) || memchr(s, '?', len))
        pat->fixed = 0;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t';
}

/* Splits the inside of ${...} into a key and an optional 'default'. Returns 0 or -1 (then the text is literal). */
static int split_variable(const char *s, size_t len, const char **key, size_t *key_len, const char **def, size_t *def_len)
{
    const char *comma = memchr(s, ',', len);
    size_t k_end = comma ? (size_t)(comma - s) : len, k = 0;

    while (k < k_end && is_space((unsigned char)s[k]))
        k++;
    while (k_end > k && is_space((unsigned char)s[k_end - 1]))
        k_end--;
    if (k == k_end)
        return -1;
    for (size_t i = k; i < k_end; i++) {
        if (is_space((unsigned char)s[i]) || s[i] == '\'' || s[i] == '{' || s[i] == '$')
            return -1;
    }
    *key = s + k;
    *key_len = k_end - k;
    *def = NULL;
    *def_len = 0;
    if (comma != NULL) {
        size_t d = (size_t)(comma - s) + 1, d_end = len;
        while (d < d_end && is_space((unsigned char)s[d]))
            d++;
        while (d_end > d && is_space((unsigned char)s[d_end - 1]))
            d_end--;
        if (d_end - d < 2 || s[d] != '\'' || s[d_end - 1] != '\'')
            return -1;
        *def = s + d + 1;
        *def_len = d_end - d - 2;
    }
    return 0;
}

/* Compiles a policy string into a pattern: glob or literal text, and ${...} variables when vars is set. */
static uint32_t compile_pattern(policy_t *p, const char *s, size_t len, int glob, int vars, int icase)
{
    pattern_t pat = {.first_seg = (uint32_t)p->segs.num, .icase = (uint8_t)icase, .fixed = 1};
    int text_kind = glob ? SEG_GLOB : SEG_LIT;
    size_t start = 0, i = 0;

    while (vars && i + 1 < len) {
        const char *close;
        if (s[i] != '$' || s[i + 1] != '{' || (close = memchr(s + i + 2, '}', len - i - 2)) == NULL) {
            i++;
            continue;
        }
        const char *inner = s + i + 2, *key, *def;
        size_t inner_len = (size_t)(close - inner), key_len, def_len;
        if (inner_len == 1 && (inner[0] == '*' || inner[0] == '?' || inner[0] == '$')) {
            push_seg(p, &pat, text_kind, s + start, i - start);
            size_t j = VEC_PUSH(p->segs);
            p->segs.items[j].kind = SEG_LIT;
            p->segs.items[j].off = add_text(p, inner, 1);
            p->segs.items[j].len = 1;
            pat.num_segs++;
        } else if (split_variable(inner, inner_len, &key, &key_len, &def, &def_len) == 0) {
            push_seg(p, &pat, text_kind, s + start, i - start);
            size_t j = VEC_PUSH(p->segs);
            seg_t *sg = &p->segs.items[j];
            sg->kind = SEG_VAR;
            sg->len = (uint32_t)key_len;
            sg->has_default = def != NULL;
            sg->def_len = (uint32_t)def_len;
            /* add_text may move the pool but not the segment vector */
            sg->off = add_text(p, key, key_len);
            if (def != NULL)
                sg->def_off = add_text(p, def, def_len);
            pat.num_segs++;
            pat.has_vars = 1;
            pat.fixed = 0;
        } else {
            i++;
            continue;
        }
        i = (size_t)(close - s) + 1;
        start = i;
    }
    push_seg(p, &pat, text_kind, s + start, len - start);
    size_t idx = VEC_PUSH(p->patterns);
    p->patterns.items[idx] = pat;
    return (uint32_t)idx;
}

static void nfa_close(const int *el, size_t m, uint8_t *set)
{
    for (size_t i = 0; i < m; i++) { /* '*' may match nothing */
        if (set[i] && el[i] == EL_STAR)
            set[i + 1] = 1;
    }
}

static void nfa_step(const int *el, size_t m, const uint8_t *cur, uint8_t *nxt, int ch)
{
    memset(nxt, 0, m + 1);
    for (size_t i = 0; i < m; i++) {
        if (!cur[i])
            continue;
        if (el[i] == EL_STAR)
            nxt[i] = 1;
        else if (el[i] == EL_QMARK || el[i] == ch)
            nxt[i + 1] = 1;
    }
    nfa_close(el, m, nxt);
}

/*
 * Whether a Resource pattern can name this bucket or an object in it: a small NFA run over
 * "arn:aws:s3:::<bucket>" then "/", variables standing for '*'. At parse time only.
 */
static int refers_to_bucket(const policy_t *p, uint32_t pattern, const char *bucket)
{
    const pattern_t *pat = &p->patterns.items[pattern];
    size_t m = 0;
    int *el, ok;
    uint8_t *cur, *nxt, *t;

    for (uint32_t i = 0; i < pat->num_segs; i++) {
        const seg_t *sg = &p->segs.items[pat->first_seg + i];
        m += sg->kind == SEG_VAR ? 1 : sg->len;
    }
    if ((el = malloc((m + 1) * sizeof(*el))) == NULL || (cur = calloc(m + 1, 1)) == NULL || (nxt = calloc(m + 1, 1)) == NULL)
        abort();
    m = 0;
    for (uint32_t i = 0; i < pat->num_segs; i++) {
        const seg_t *sg = &p->segs.items[pat->first_seg + i];
        const char *s = text_at(p, sg->off);
        if (sg->kind == SEG_VAR) {
            el[m++] = EL_STAR;
            continue;
        }
        for (uint32_t j = 0; j < sg->len; j++) {
            int ch = (unsigned char)s[j];
            el[m++] = sg->kind == SEG_GLOB && ch == '*' ? EL_STAR : sg->kind == SEG_GLOB && ch == '?' ? EL_QMARK : ch;
        }
    }
    cur[0] = 1;
    nfa_close(el, m, cur);
    for (const char *c = ARN_S3; *c != '\0'; c++, t = cur, cur = nxt, nxt = t)
        nfa_step(el, m, cur, nxt, (unsigned char)*c);
    for (const char *c = bucket; *c != '\0'; c++, t = cur, cur = nxt, nxt = t)
        nfa_step(el, m, cur, nxt, (unsigned char)*c);
    ok = cur[m]; /* the bucket itself */
    nfa_step(el, m, cur, nxt, '/');
    for (size_t i = 0; i <= m && !ok; i++)
        ok = nxt[i]; /* an object: whatever is left of the pattern matches some key */
    free(el);
    free(cur);
    free(nxt);
    return ok;
}

/* One {"AWS": ...} principal: "*", an account id or its root ARN, a user ARN, or a canonical user id. */
static int parse_principal_aws(parser_t *ps, const char *s, size_t len)
{
    policy_t *p = ps->p;
    size_t i = VEC_PUSH(p->principals);
    principal_t *pr = &p->principals.items[i];

    if (len == 1 && s[0] == '*') {
        pr->kind = PRINCIPAL_ANY;
    } else if (len == 12 && all_digits(s, 12)) {
        pr->kind = PRINCIPAL_ROOT;
    } else if (text_is_hex(s, len, 64)) {
        pr->kind = PRINCIPAL_CANONICAL;
    } else if (len > ARN_IAM_LEN + 13 && memcmp(s, ARN_IAM, ARN_IAM_LEN) == 0 && all_digits(s + ARN_IAM_LEN, 12) &&
               s[ARN_IAM_LEN + 12] == ':') {
        const char *rest = s + ARN_IAM_LEN + 13;
        size_t rest_len = len - ARN_IAM_LEN - 13;
        if (rest_len == 4 && memcmp(rest, "root", 4) == 0) {
            pr->kind = PRINCIPAL_ROOT;
        } else if (rest_len > 5 && memcmp(rest, "user/", 5) == 0 && !memchr(rest, '*', rest_len) && !memchr(rest, '?', rest_len)) {
            pr->kind = PRINCIPAL_USER;
            pr->len = (uint32_t)(rest_len - 5);
        } else {
            return fail(ps, MSG_BAD_PRINCIPAL);
        }
    } else {
        return fail(ps, MSG_BAD_PRINCIPAL);
    }
    if (pr->kind == PRINCIPAL_CANONICAL)
        pr->len = (uint32_t)len;
    if (pr->kind == PRINCIPAL_USER || pr->kind == PRINCIPAL_CANONICAL) {
        const char *t = pr->kind == PRINCIPAL_USER ? s + len - pr->len : s;
        uint32_t off = add_text(p, t, pr->len);
        p->principals.items[i].off = off;
    }
    return 0;
}

static int parse_principal(parser_t *ps, const json_t *v, stmt_t *st)
{
    policy_t *p = ps->p;
    const char *type;
    const json_t *ids;

    st->first_principal = (uint32_t)p->principals.num;
    if (json_is_string(v)) {
        if (strcmp(json_string_value(v), "*") != 0)
            return fail(ps, MSG_BAD_PRINCIPAL);
        size_t i = VEC_PUSH(p->principals);
        p->principals.items[i].kind = PRINCIPAL_ANY;
        st->num_principals = 1;
        return 0;
    }
    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail(ps, MSG_BAD_PRINCIPAL);
    json_object_foreach((json_t *)v, type, ids)
    {
        size_t n = string_list_size(ids);
        if (n == 0)
            return fail(ps, MSG_BAD_PRINCIPAL);
        for (size_t i = 0; i < n; i++) {
            const json_t *id = string_list_get(ids, i);
            const char *s = json_string_value(id);
            size_t len = json_string_length(id);
            if (strcmp(type, "AWS") == 0) {
                if (parse_principal_aws(ps, s, len) != 0)
                    return -EINVAL;
            } else if (strcmp(type, "CanonicalUser") == 0 && text_is_hex(s, len, 64)) {
                size_t j = VEC_PUSH(p->principals);
                uint32_t off = add_text(p, s, len);
                p->principals.items[j] = (principal_t){PRINCIPAL_CANONICAL, off, 64};
            } else if (strcmp(type, "Service") == 0 && len > 0 && !memchr(s, '*', len) && !memchr(s, '?', len)) {
                size_t j = VEC_PUSH(p->principals);
                p->principals.items[j].kind = PRINCIPAL_SERVICE;
            } else {
                return fail(ps, MSG_BAD_PRINCIPAL);
            }
        }
    }
    st->num_principals = (uint32_t)(p->principals.num - st->first_principal);
    return 0;
}

static const char *const action_names[POLICY_ACTION_COUNT] = {
#define ACTION_NAME(id, name) [POLICY_ACTION_##id] = name,
    POLICY_S3_ACTIONS(ACTION_NAME)
#undef ACTION_NAME
};

const char *policy_action_name(policy_action_t action)
{
    return action > POLICY_ACTION_NONE && action < POLICY_ACTION_COUNT ? action_names[action] : NULL;
}

/*
 * "*" or "s3:" followed by letters, digits and wildcards; the service prefix ignores case, as AWS's
 * does. With known set, the whole action must also match (case ignored, its wildcards as wildcards)
 * the name of at least one known action.
 */
static int valid_action(const char *s, size_t len, int known)
{
    if (len == 1 && s[0] == '*')
        return 1;
    if (len <= 3 || !has_prefix_icase(s, len, "s3:"))
        return 0;
    for (size_t i = 3; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_digit(c) && !(text_lower(c) >= 'a' && text_lower(c) <= 'z') && c != '*' && c != '?')
            return 0;
    }
    if (!known)
        return 1;
    size_t budget = EVAL_BUDGET; /* a pattern that costs more than an evaluation may names no action */
    for (size_t a = POLICY_ACTION_NONE + 1; a < POLICY_ACTION_COUNT; a++) {
        int m = flat_glob(s, len, action_names[a], strlen(action_names[a]), 1, &budget);
        if (m == MATCH_OUT_OF_BUDGET)
            return 0;
        if (m == 1)
            return 1;
    }
    return 0;
}

static int parse_actions(parser_t *ps, const json_t *v, stmt_t *st)
{
    size_t n = string_list_size(v);

    if (n == 0)
        return fail(ps, MSG_BAD_ACTION);
    st->first_action = (uint32_t)ps->p->patterns.num;
    for (size_t i = 0; i < n; i++) {
        const json_t *a = string_list_get(v, i);
        if (!valid_action(json_string_value(a), json_string_length(a), ps->known_actions))
            return fail(ps, MSG_BAD_ACTION);
        compile_pattern(ps->p, json_string_value(a), json_string_length(a), 1, 0, 1);
    }
    st->num_actions = (uint32_t)n;
    return 0;
}

static int parse_resources(parser_t *ps, const json_t *v, stmt_t *st)
{
    size_t n = string_list_size(v);

    if (n == 0)
        return fail(ps, MSG_BAD_RESOURCE);
    st->first_resource = (uint32_t)ps->p->patterns.num;
    for (size_t i = 0; i < n; i++) {
        const json_t *r = string_list_get(v, i);
        const char *s = json_string_value(r);
        size_t len = json_string_length(r);
        if (len < ARN_S3_LEN || memcmp(s, ARN_S3, ARN_S3_LEN) != 0)
            return fail(ps, MSG_BAD_RESOURCE);
        uint32_t pat = compile_pattern(ps->p, s, len, 1, ps->p->variables, 0);
        if (!refers_to_bucket(ps->p, pat, ps->bucket))
            return fail(ps, MSG_BAD_RESOURCE);
    }
    st->num_resources = (uint32_t)n;
    return 0;
}

typedef struct op_def {
    const char *name;
    uint8_t family, cmp, negate;
    uint8_t glob;  /* FAM_STRING: values are wildcard patterns */
    uint8_t icase; /* FAM_STRING: ASCII case ignored */
} op_def_t;

static const op_def_t op_defs[] = {
    {"StringEquals", FAM_STRING, CMP_EQ, 0, 0, 0},
    {"StringNotEquals", FAM_STRING, CMP_EQ, 1, 0, 0},
    {"StringEqualsIgnoreCase", FAM_STRING, CMP_EQ, 0, 0, 1},
    {"StringNotEqualsIgnoreCase", FAM_STRING, CMP_EQ, 1, 0, 1},
    {"StringLike", FAM_STRING, CMP_EQ, 0, 1, 0},
    {"StringNotLike", FAM_STRING, CMP_EQ, 1, 1, 0},
    {"NumericEquals", FAM_NUMERIC, CMP_EQ, 0, 0, 0},
    {"NumericNotEquals", FAM_NUMERIC, CMP_EQ, 1, 0, 0},
    {"NumericLessThan", FAM_NUMERIC, CMP_LT, 0, 0, 0},
    {"NumericLessThanEquals", FAM_NUMERIC, CMP_LE, 0, 0, 0},
    {"NumericGreaterThan", FAM_NUMERIC, CMP_GT, 0, 0, 0},
    {"NumericGreaterThanEquals", FAM_NUMERIC, CMP_GE, 0, 0, 0},
    {"DateEquals", FAM_DATE, CMP_EQ, 0, 0, 0},
    {"DateNotEquals", FAM_DATE, CMP_EQ, 1, 0, 0},
    {"DateLessThan", FAM_DATE, CMP_LT, 0, 0, 0},
    {"DateLessThanEquals", FAM_DATE, CMP_LE, 0, 0, 0},
    {"DateGreaterThan", FAM_DATE, CMP_GT, 0, 0, 0},
    {"DateGreaterThanEquals", FAM_DATE, CMP_GE, 0, 0, 0},
    {"Bool", FAM_BOOL, CMP_EQ, 0, 0, 0},
    {"BinaryEquals", FAM_STRING, CMP_EQ, 0, 0, 0}, /* the base64 text, compared as a string */
    {"IpAddress", FAM_IP, CMP_EQ, 0, 0, 0},
    {"NotIpAddress", FAM_IP, CMP_EQ, 1, 0, 0},
    /* AWS matches both ArnEquals and ArnLike with wildcards */
    {"ArnEquals", FAM_STRING, CMP_EQ, 0, 1, 0},
    {"ArnLike", FAM_STRING, CMP_EQ, 0, 1, 0},
    {"ArnNotEquals", FAM_STRING, CMP_EQ, 1, 1, 0},
    {"ArnNotLike", FAM_STRING, CMP_EQ, 1, 1, 0},
};

static const op_def_t null_def = {"Null", FAM_NULL, CMP_EQ, 0, 0, 0};

/* Operator names are case-sensitive: [ForAnyValue:|ForAllValues:]<Operator>[IfExists] (no NullIfExists). */
static const op_def_t *parse_operator(const char *name, cond_t *c)
{
    size_t len = strlen(name);

    if (strncmp(name, "ForAnyValue:", 12) == 0) {
        c->qualifier = QUAL_ANY;
        name += 12;
        len -= 12;
    } else if (strncmp(name, "ForAllValues:", 13) == 0) {
        c->qualifier = QUAL_ALL;
        name += 13;
        len -= 13;
    }
    if (strcmp(name, "Null") == 0)
        return &null_def;
    if (len > 8 && strcmp(name + len - 8, "IfExists") == 0) {
        c->if_exists = 1;
        len -= 8;
    }
    for (size_t i = 0; i < sizeof(op_defs) / sizeof(op_defs[0]); i++) {
        if (strlen(op_defs[i].name) == len && memcmp(op_defs[i].name, name, len) == 0)
            return &op_defs[i];
    }
    return NULL;
}

/* A condition value as text: strings as they are, numbers in their shortest exact form, booleans as true/false. */
static const char *scalar_text(const json_t *v, char buf[40], size_t *len)
{
    int n = 0;

    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    if (json_is_integer(v)) {
        n = snprintf(buf, 40, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) {
            n = snprintf(buf, 40, "%.*g", prec, d);
            if (strtod(buf, NULL) == d)
                break;
        }
    } else {
        n = snprintf(buf, 40, "%s", json_is_true(v) ? "true" : "false");
    }
    *len = (size_t)n;
    return buf;
}

static int parse_condition_value(parser_t *ps, const op_def_t *def, cond_t *c, const char *key, const json_t *v)
{
    policy_t *p = ps->p;
    char buf[40], show[72];
    size_t len;
    const char *s = scalar_text(v, buf, &len);
    size_t i = VEC_PUSH(p->values);
    cond_value_t *cv = &p->values.items[i];

    c->num_values++;
    switch (def->family) {
    case FAM_STRING:
        if (text_ieq_str(key, strlen(key), "aws:SourceIp") && parse_ip(s, len, 1, &cv->ip) != 0)
            return fail(ps, MSG_BAD_IP);
        cv->pattern = compile_pattern(p, s, len, def->glob, p->variables, def->icase);
        return 0;
    case FAM_NUMERIC:
        if (json_is_number(v)) {
            cv->num = json_number_value(v);
            return 0;
        }
        if (parse_number(s, len, &cv->num) != 0)
            return fail(ps, "Invalid number in Conditions: %s", excerpt(s, show));
        return 0;
    case FAM_DATE:
        if (parse_date(s, len, &cv->ms) != 0)
            return fail(ps, "Invalid date in Conditions: %s", excerpt(s, show));
        return 0;
    case FAM_BOOL:
    case FAM_NULL:
        if (parse_bool(s, len, &cv->boolean) != 0)
            return fail(ps, "Invalid boolean in Conditions: %s", excerpt(s, show));
        return 0;
    case FAM_IP:
        if (parse_ip(s, len, 1, &cv->ip) != 0)
            return fail(ps, MSG_BAD_IP);
        return 0;
    }
    return 0;
}

/* Condition keys name a global (aws:) or S3 (s3:) context key; names ignore case. */
static int valid_condition_key(const char *key, size_t len)
{
    if (has_prefix_icase(key, len, "aws:"))
        return len > 4;
    if (has_prefix_icase(key, len, "s3:"))
        return len > 3;
    return 0;
}

static int parse_conditions(parser_t *ps, const json_t *v, stmt_t *st)
{
    policy_t *p = ps->p;
    const char *op_name, *key;
    const json_t *block, *values;
    char show[72];

    if (!json_is_object(v))
        return fail(ps, "Condition must be an object");
    st->first_cond = (uint32_t)p->conds.num;
    json_object_foreach((json_t *)v, op_name, block)
    {
        cond_t proto = {0};
        const op_def_t *def = parse_operator(op_name, &proto);
        if (def == NULL)
            return fail(ps, "Invalid Condition type : %s", excerpt(op_name, show));
        if (!json_is_object(block) || json_object_size(block) == 0)
            return fail(ps, "Condition %s must be an object naming at least one key", excerpt(op_name, show));
        json_object_foreach((json_t *)block, key, values)
        {
            size_t key_len = strlen(key), n;
            if (!valid_condition_key(key, key_len))
                return fail(ps, MSG_BAD_CONDITION_KEY);
            if (json_is_array(values)) {
                n = json_array_size(values);
                for (size_t i = 0; i < n; i++) {
                    const json_t *e = json_array_get(values, i);
                    if (!json_is_string(e) && !json_is_number(e) && !json_is_boolean(e))
                        n = 0;
                }
            } else {
                n = json_is_string(values) || json_is_number(values) || json_is_boolean(values);
            }
            if (n == 0)
                return fail(ps, "Invalid value for condition key %s: a string, number or boolean, or a non-empty array of them",
                            excerpt(key, show));

            cond_t c = proto;
            c.family = def->family;
            c.cmp = def->cmp;
            c.negate = def->negate;
            c.pins =
                !def->negate && (def->family == FAM_STRING || def->family == FAM_IP) && !c.if_exists && c.qualifier != QUAL_ALL;
            c.key_len = (uint32_t)key_len;
            c.key_off = add_text(p, key, key_len);
            c.first_value = (uint32_t)p->values.num;
            for (size_t i = 0; i < n; i++) {
                if (parse_condition_value(ps, def, &c, key, json_is_array(values) ? json_array_get(values, i) : values) != 0)
                    return -EINVAL;
            }
            size_t k = VEC_PUSH(p->conds);
            p->conds.items[k] = c;
        }
    }
    st->num_conds = (uint32_t)(p->conds.num - st->first_cond);
    return 0;
}

/* A statement has exactly one of field and Not<field>; *negated tells which. Returns 0 or -EINVAL. */
static int one_of(parser_t *ps, const json_t *pos, const json_t *neg, const char *field, uint8_t *negated)
{
    if (pos == NULL && neg == NULL)
        return fail(ps, "Missing required field %s", field);
    if (pos != NULL && neg != NULL)
        return fail(ps, "A statement cannot have both %s and Not%s", field, field);
    *negated = neg != NULL;
    return 0;
}

static int parse_statement(parser_t *ps, const json_t *s)
{
    static const char *const fields[] = {"Sid",       "Effect",   "Principal",   "NotPrincipal", "Action",
                                         "NotAction", "Resource", "NotResource", "Condition"};
    const json_t *effect, *principal, *not_principal, *action, *not_action, *resource, *not_resource, *condition, *sid;
    const char *name;
    const json_t *v;
    stmt_t st = {0};
    char show[72];

    if (!json_is_object(s))
        return fail(ps, "Statement must be an object or an array of objects");
    json_object_foreach((json_t *)s, name, v)
    {
        size_t i = 0;
        while (i < sizeof(fields) / sizeof(fields[0]) && strcmp(name, fields[i]) != 0)
            i++;
        if (i == sizeof(fields) / sizeof(fields[0]))
            return fail(ps, "Unknown field %s", excerpt(name, show));
    }
    sid = json_object_get(s, "Sid");
    effect = json_object_get(s, "Effect");
    principal = json_object_get(s, "Principal");
    not_principal = json_object_get(s, "NotPrincipal");
    action = json_object_get(s, "Action");
    not_action = json_object_get(s, "NotAction");
    resource = json_object_get(s, "Resource");
    not_resource = json_object_get(s, "NotResource");
    condition = json_object_get(s, "Condition");

    if (sid != NULL && !json_is_string(sid))
        return fail(ps, "Sid must be a string");
    if (effect == NULL)
        return fail(ps, "Missing required field Effect");
    if (!json_is_string(effect) ||
        (strcmp(json_string_value(effect), "Allow") != 0 && strcmp(json_string_value(effect), "Deny") != 0))
        return fail(ps, "Invalid effect: %s", json_is_string(effect) ? excerpt(json_string_value(effect), show) : "(not a string)");
    st.deny = strcmp(json_string_value(effect), "Deny") == 0;

    if (one_of(ps, principal, not_principal, "Principal", &st.not_principal) != 0 ||
        parse_principal(ps, principal ? principal : not_principal, &st) != 0)
        return -EINVAL;
    if (one_of(ps, action, not_action, "Action", &st.not_action) != 0 || parse_actions(ps, action ? action : not_action, &st) != 0)
        return -EINVAL;
    if (one_of(ps, resource, not_resource, "Resource", &st.not_resource) != 0 ||
        parse_resources(ps, resource ? resource : not_resource, &st) != 0)
        return -EINVAL;

    if (condition != NULL && parse_conditions(ps, condition, &st) != 0)
        return -EINVAL;

    size_t i = VEC_PUSH(ps->p->stmts);
    ps->p->stmts.items[i] = st;
    return 0;
}

/* policy_parse and policy_parse_stored; known_actions: whether actions must match POLICY_S3_ACTIONS. */
static int parse(const char *json, size_t len, const char *bucket, int known_actions, policy_t **out, char *err, size_t err_len)
{
    parser_t ps = {.bucket = bucket, .known_actions = known_actions, .err = err, .err_len = err_len};
    json_t *root = NULL;
    const json_t *version, *statements, *v;
    const char *name, **sids = NULL;
    json_error_t jerr;
    size_t num_stmts, num_sids = 0;
    char show[72];
    int ret = -EINVAL;

    *out = NULL;
    if (err_len > 0)
        err[0] = '\0';
    if (json == NULL || bucket == NULL)
        return fail(&ps, MSG_INVALID_JSON);
    if (len > POLICY_MAX_RAW || compact_size(json, len) > POLICY_MAX_SIZE)
        return fail(&ps, MSG_TOO_LARGE);
    if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(root)) {
        ret = fail(&ps, MSG_INVALID_JSON);
        goto Exit;
    }
    if ((ps.p = calloc(1, sizeof(*ps.p))) == NULL)
        abort();

    json_object_foreach(root, name, v)
    {
        if (strcmp(name, "Version") != 0 && strcmp(name, "Id") != 0 && strcmp(name, "Statement") != 0) {
            ret = fail(&ps, "Unknown field %s", excerpt(name, show));
            goto Exit;
        }
    }
    version = json_object_get(root, "Version");
    if (version != NULL && (!json_is_string(version) || (strcmp(json_string_value(version), "2012-10-17") != 0 &&
                                                         strcmp(json_string_value(version), "2008-10-17") != 0))) {
        ret = fail(&ps, MSG_BAD_VERSION);
        goto Exit;
    }
    ps.p->variables = version != NULL && strcmp(json_string_value(version), "2012-10-17") == 0;
    if ((v = json_object_get(root, "Id")) != NULL && !json_is_string(v)) {
        ret = fail(&ps, "Id must be a string");
        goto Exit;
    }
    if ((statements = json_object_get(root, "Statement")) == NULL) {
        ret = fail(&ps, MSG_NO_STATEMENT);
        goto Exit;
    }
    num_stmts = json_is_array(statements) ? json_array_size(statements) : 1;
    if (num_stmts == 0) {
        ret = fail(&ps, MSG_EMPTY_STATEMENT);
        goto Exit;
    }
    if ((sids = calloc(num_stmts, sizeof(*sids))) == NULL)
        abort();
    for (size_t i = 0; i < num_stmts; i++) {
        const json_t *s = json_is_array(statements) ? json_array_get(statements, i) : statements;
        const json_t *sid;
        if (parse_statement(&ps, s) != 0)
            goto Exit;
        if ((sid = json_object_get(s, "Sid")) != NULL && json_string_length(sid) > 0) {
            for (size_t j = 0; j < num_sids; j++) {
                if (strcmp(sids[j], json_string_value(sid)) == 0) {
                    ret = fail(&ps, MSG_DUPLICATE_SID);
                    goto Exit;
                }
            }
            sids[num_sids++] = json_string_value(sid);
        }
    }
    *out = ps.p;
    ps.p = NULL;
    ret = 0;
Exit:
    free(sids);
    policy_free(ps.p);
    json_decref(root);
    return ret;
}

int policy_parse(const char *json, size_t len, const char *bucket, policy_t **out, char *err, size_t err_len)
{
    return parse(json, len, bucket, 1, out, err, err_len);
}

int policy_parse_stored(const char *json, size_t len, const char *bucket, policy_t **out, char *err, size_t err_len)
{
    return parse(json, len, bucket, 0, out, err, err_len);
}

/* ------------------------------------------------------------------ evaluation */

static int principal_match(const policy_t *p, const principal_t *pr, const policy_request_t *req)
{
    if (pr->kind == PRINCIPAL_ANY)
        return 1;
    if (req->anonymous)
        return 0;
    switch (pr->kind) {
    case PRINCIPAL_USER:
        return req->user_name != NULL && strcmp(req->user_name, text_at(p, pr->off)) == 0;
    case PRINCIPAL_ROOT:
        return req->user_name != NULL && strcmp(req->user_name, "root") == 0;
    case PRINCIPAL_CANONICAL:
        return req->canonical_id != NULL && text_ieq(req->canonical_id, strlen(req->canonical_id), text_at(p, pr->off), pr->len);
    default:
        return 0;
    }
}

static int statement_principal(const policy_t *p, const stmt_t *st, const policy_request_t *req)
{
    int any = 0;

    for (uint32_t i = 0; i < st->num_principals && !any; i++)
        any = principal_match(p, &p->principals.items[st->first_principal + i], req);
    return st->not_principal ? !any : any;
}

static int statement_action(eval_t *ev, const stmt_t *st)
{
    const char *action = ev->req->action != NULL ? ev->req->action : "";
    int any = 0;

    for (uint32_t i = 0; i < st->num_actions && !any; i++)
        any = pattern_match(ev, st->first_action + i, action, strlen(action)) == TRI_YES;
    return st->not_action ? !any : any;
}

static tri_t statement_resource(eval_t *ev, const stmt_t *st)
{
    const char *resource = ev->req->resource != NULL ? ev->req->resource : "";
    size_t len = ev->req->resource != NULL ? ev->req->resource_len : 0;
    tri_t any = TRI_NO;

    for (uint32_t i = 0; i < st->num_resources && any != TRI_YES; i++)
        any = tri_or(any, pattern_match(ev, st->first_resource + i, resource, len));
    return st->not_resource ? tri_not(any) : any;
}

static int compare(int cmp, double actual, double expected)
{
    switch (cmp) {
    case CMP_LT:
        return actual < expected;
    case CMP_LE:
        return actual <= expected;
    case CMP_GT:
        return actual > expected;
    case CMP_GE:
        return actual >= expected;
    default:
        return actual == expected;
    }
}

static int compare_ms(int cmp, int64_t actual, int64_t expected)
{
    switch (cmp) {
    case CMP_LT:
        return actual < expected;
    case CMP_LE:
        return actual <= expected;
    case CMP_GT:
        return actual > expected;
    case CMP_GE:
        return actual >= expected;
    default:
        return actual == expected;
    }
}

static tri_t condition_holds(eval_t *ev, const cond_t *c)
{
    const policy_t *p = ev->p;
    const policy_request_t *req = ev->req;
    const cond_value_t *values = p->values.items + c->first_value;
    const char *actual = NULL;
    size_t actual_len = 0;
    int present = ctx_lookup(req, text_at(p, c->key_off), c->key_len, &actual, &actual_len);
    tri_t any = TRI_NO;

    if (c->family == FAM_NULL) {
        for (uint32_t i = 0; i < c->num_values; i++) {
            if (values[i].boolean == !present)
                return TRI_YES;
        }
        return TRI_NO;
    }
    if (!present) {
        if (c->if_exists || c->qualifier == QUAL_ALL)
            return TRI_YES;
        if (c->qualifier == QUAL_ANY)
            return TRI_NO;
        return c->negate ? TRI_YES : TRI_NO;
    }
    switch (c->family) {
    case FAM_STRING:
        for (uint32_t i = 0; i < c->num_values && any != TRI_YES; i++)
            any = tri_or(any, pattern_match(ev, values[i].pattern, actual, actual_len));
        break;
    case FAM_NUMERIC: {
        double a;
        if (parse_number(actual, actual_len, &a) != 0)
            break;
        for (uint32_t i = 0; i < c->num_values && any != TRI_YES; i++)
            any = compare(c->cmp, a, values[i].num) ? TRI_YES : TRI_NO;
        break;
    }
    case FAM_DATE: {
        int64_t a;
        if (parse_date(actual, actual_len, &a) != 0)
            break;
        for (uint32_t i = 0; i < c->num_values && any != TRI_YES; i++)
            any = compare_ms(c->cmp, a, values[i].ms) ? TRI_YES : TRI_NO;
        break;
    }
    case FAM_BOOL: {
        int a;
        if (parse_bool(actual, actual_len, &a) != 0)
            break;
        for (uint32_t i = 0; i < c->num_values && any != TRI_YES; i++)
            any = values[i].boolean == a ? TRI_YES : TRI_NO;
        break;
    }
    case FAM_IP: {
        ip_range_t a;
        if (parse_ip(actual, actual_len, 0, &a) != 0)
            break;
        for (uint32_t i = 0; i < c->num_values && any != TRI_YES; i++)
            any = ip_in_range(&values[i].ip, &a) ? TRI_YES : TRI_NO;
        break;
    }
    }
    return c->negate ? tri_not(any) : any;
}

policy_decision_t policy_evaluate(const policy_t *p, const policy_request_t *req)
{
    eval_t ev = {.p = p, .req = req, .budget = EVAL_BUDGET};
    int allowed = 0;

    for (size_t i = 0; i < p->stmts.num; i++) {
        const stmt_t *st = &p->stmts.items[i];
        tri_t applies;
        if (!statement_principal(p, st, req) || !statement_action(&ev, st))
            continue;
        applies = statement_resource(&ev, st);
        for (uint32_t j = 0; j < st->num_conds && applies != TRI_NO; j++)
            applies = tri_and(applies, condition_holds(&ev, &p->conds.items[st->first_cond + j]));
        if (applies == TRI_NO)
            continue;
        if (st->deny) /* MAYBE too: a Deny that might apply does */
            return POLICY_DENY;
        if (applies == TRI_YES) /* an Allow must hold for sure */
            allowed = 1;
    }
    return allowed ? POLICY_ALLOW : POLICY_NONE;
}

/* ------------------------------------------------------------------ public or not */

/* Keys that, held to fixed values, restrict a grant to known callers (AWS's "The meaning of public"). */
static const char *const pinning_keys[] = {
    "aws:SourceIp",
    "aws:SourceArn",
    "aws:SourceAccount",
    "aws:SourceOwner",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceOrgID",
    "aws:userid",
    "aws:PrincipalOrgID",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "s3:DataAccessPointArn",
    "s3:DataAccessPointAccount",
};

static int condition_pins(const policy_t *p, const cond_t *c)
{
    const char *key = text_at(p, c->key_off);
    const cond_value_t *values = p->values.items + c->first_value;
    size_t k = 0;

    if (!c->pins)
        return 0;
    while (k < sizeof(pinning_keys) / sizeof(pinning_keys[0]) && !text_ieq_str(key, c->key_len, pinning_keys[k]))
        k++;
    if (k == sizeof(pinning_keys) / sizeof(pinning_keys[0]))
        return 0;
    for (uint32_t i = 0; i < c->num_values; i++) {
        if (c->family == FAM_IP && values[i].ip.prefix == 0)
            return 0; /* 0.0.0.0/0, ::/0: everyone */
        if (c->family == FAM_STRING && !p->patterns.items[values[i].pattern].fixed)
            return 0;
    }
    return 1;
}

int policy_is_public(const policy_t *p)
{
    for (size_t i = 0; i < p->stmts.num; i++) {
        const stmt_t *st = &p->stmts.items[i];
        int everyone = 0, pinned = 0;
        if (st->deny)
            continue;
        for (uint32_t j = 0; j < st->num_principals; j++)
            everyone |= p->principals.items[st->first_principal + j].kind == PRINCIPAL_ANY;
        if (st->not_principal)
            everyone = !everyone; /* everyone but a few, anonymous included; NotPrincipal "*" is no one */
        if (!everyone)
            continue;
        for (uint32_t j = 0; j < st->num_conds && !pinned; j++)
            pinned = condition_pins(p, &p->conds.items[st->first_cond + j]);
        if (!pinned)
            return 1;
    }
    return 0;
}
