/* server/tagging.c -- tag sets: the <Tagging> document, the x-amz-tagging header, the stored form.
 *
 * DESIGN: both input forms are first taken apart into (key, value) pairs in a
 * builder, then one validator applies AWS's rules in AWS's order: the number of
 * tags (BadRequest), then tag by tag the key (1..128 characters), the value
 * (0..256), a repeated key and the reserved "aws:" prefix (InvalidTag). Lengths
 * count Unicode characters (code points), not bytes. The characters allowed are
 * those of AWS's tag pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*: letters and numbers
 * are classified by the C library's C.UTF-8 locale (iswalnum), space separators
 * come from a table, the rest of ASCII is spelled out. The document is read
 * like every request body, with xml_read_doc (server/xml.h): libxml2 with the
 * network off and any document carrying a DTD refused, elements matched by
 * local name. */
#include "server/tagging.h"

#include <libxml/tree.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

static const char msg_too_many_object[] = "Object tags cannot be greater than 10";
static const char msg_too_many_bucket[] = "Bucket tag count cannot be greater than 50";
static const char msg_bad_key[] = "The TagKey you have provided is invalid";
static const char msg_bad_value[] = "The TagValue you have provided is invalid";
static const char msg_duplicate[] = "Cannot provide multiple Tags with the same key";
static const char msg_system_object[] = "Your TagKey cannot be prefixed with aws:";
static const char msg_system_bucket[] = "System tags cannot be added/updated by requester";
static const char msg_bad_header[] =
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

static void *xrealloc(void *p, size_t n)
{
    if ((p = realloc(p, n != 0 ? n : 1)) == NULL)
        abort();
    return p;
}

void tagging_set_free(tagging_set_t *s)
{
    free(s->tags);
    free(s->buf);
    memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------------ building a set */

/* Collects pairs; their bytes go into one buffer, and pointers are set once it stops moving. */
typedef struct builder {
    tagging_set_t *s;
    size_t cap;   /* tags allocated */
    size_t *offs; /* key and value offsets in s->buf, two per tag */
    size_t buf_len, buf_cap;
} builder_t;

static void builder_init(builder_t *b, tagging_set_t *out)
{
    memset(out, 0, sizeof(*out));
    memset(b, 0, sizeof(*b));
    b->s = out;
}

static size_t builder_copy(builder_t *b, const char *p, size_t len)
{
    if (b->buf_len + len + 1 > b->buf_cap) {
        b->buf_cap = (b->buf_len + len + 1) * 2;
        b->s->buf = xrealloc(b->s->buf, b->buf_cap);
    }
    size_t off = b->buf_len;
    if (len != 0)
        memcpy(b->s->buf + off, p, len);
    b->s->buf[off + len] = '\0';
    b->buf_len += len + 1;
    return off;
}

static void builder_add(builder_t *b, const char *k, size_t k_len, const char *v, size_t v_len)
{
    tagging_set_t *s = b->s;
    if (s->num_tags == b->cap) {
        b->cap = b->cap != 0 ? 2 * b->cap : 16;
        s->tags = xrealloc(s->tags, b->cap * sizeof(*s->tags));
        b->offs = xrealloc(b->offs, 2 * b->cap * sizeof(*b->offs));
    }
    b->offs[2 * s->num_tags] = builder_copy(b, k, k_len);
    b->offs[2 * s->num_tags + 1] = builder_copy(b, v, v_len);
    s->tags[s->num_tags].key_len = k_len;
    s->tags[s->num_tags].value_len = v_len;
    s->num_tags++;
}

static void builder_finish(builder_t *b)
{
    tagging_set_t *s = b->s;
    for (size_t i = 0; i < s->num_tags; i++) {
        s->tags[i].key = s->buf + b->offs[2 * i];
        s->tags[i].value = s->buf + b->offs[2 * i + 1];
    }
    free(b->offs);
    b->offs = NULL;
}

static void builder_abandon(builder_t *b)
{
    free(b->offs);
    tagging_set_free(b->s);
}

/* ------------------------------------------------------------------ characters */

/* Decodes one UTF-8 sequence at s[*i] (strict: no overlong form, surrogate or value past U+10FFFF). Returns 0 or -1. */
static int utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
    unsigned char c = s[*i];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        ++*i;
        return 0;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 1, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 2, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 3, v = c & 0x07, min = 0x10000;
    else
        return -1;
    if (len - *i <= n)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        if ((s[*i + k] & 0xC0) != 0x80)
            return -1;
        v = (v << 6) | (s[*i + k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    *cp = v;
    *i += n + 1;
    return 0;
}

static int utf8_valid(const char *s, size_t len)
{
    uint32_t cp;
    for (size_t i = 0; i < len;) {
        if (utf8_next((const unsigned char *)s, len, &i, &cp) != 0)
            return 0;
    }
    return 1;
}

static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void open_utf8_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Whether cp may appear in a tag: a letter, a number, a space separator, or one of _ . : / = + - @. */
static int tag_char_ok(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               (cp != 0 && strchr(" _.:/=+-@", (int)cp) != NULL);
    /* \p{Z} beyond ASCII: no-break space, Ogham space mark, the en quad..hair space block, the line and paragraph
     * separators, the narrow no-break, medium mathematical and ideographic spaces */
    if (cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
        cp == 0x205F || cp == 0x3000)
        return 1;
    if (cp < 0xA0)
        return 0; /* C1 controls */
    pthread_once(&utf8_locale_once, open_utf8_locale);
    if (utf8_locale == (locale_t)0)
        return 1; /* no classification to be had: let the other rules decide */
    return iswalnum_l((wint_t)cp, utf8_locale) != 0;
}

/* Whether s (valid UTF-8 or not) has min..max characters, each allowed in a tag. */
static int tag_text_ok(const char *s, size_t len, size_t min, size_t max)
{
    size_t count = 0;
    uint32_t cp;
    for (size_t i = 0; i < len; count++) {
        if (count == max || utf8_next((const unsigned char *)s, len, &i, &cp) != 0 || !tag_char_ok(cp))
            return 0;
    }
    return count >= min;
}

/* AWS's rules over a parsed set; S3ERR_NONE or the error with *message. */
static s3err_t validate(const tagging_set_t *s, tagging_kind_t kind, const char **message)
{
    if (s->num_tags > (kind == TAGGING_OBJECT ? TAGGING_OBJECT_MAX : TAGGING_BUCKET_MAX)) {
        *message = kind == TAGGING_OBJECT ? msg_too_many_object : msg_too_many_bucket;
        return S3ERR_BAD_REQUEST;
    }
    for (size_t i = 0; i < s->num_tags; i++) {
        const tagging_tag_t *t = &s->tags[i];
        if (!tag_text_ok(t->key, t->key_len, 1, TAGGING_KEY_MAX))
            *message = msg_bad_key;
        else if (!tag_text_ok(t->value, t->value_len, 0, TAGGING_VALUE_MAX))
            *message = msg_bad_value;
        else if (t->key_len >= 4 && strncasecmp(t->key, "aws:", 4) == 0)
            *message = kind == TAGGING_OBJECT ? msg_system_object : msg_system_bucket;
        for (size_t j = 0; j < i && *message == NULL; j++) {
            if (s->tags[j].key_len == t->key_len && memcmp(s->tags[j].key, t->key, t->key_len) == 0)
                *message = msg_duplicate;
        }
        if (*message != NULL)
            return S3ERR_INVALID_TAG;
    }
    return S3ERR_NONE;
}

/* ------------------------------------------------------------------ the document */

/* Finds a Tag's Key and Value (exactly one of each, text only); -1 when the Tag is malformed. */
static int tag_parts(xmlNodePtr tag, xmlNodePtr *key, xmlNodePtr *value)
{
    *key = *value = NULL;
    for (xmlNodePtr n = tag->children; n != NULL; n = n->next) {
        xmlNodePtr *slot = xml_is_element(n, "Key") ? key : xml_is_element(n, "Value") ? value : NULL;
        if (slot == NULL) {
            if (n->type == XML_ELEMENT_NODE)
                return -1;
            continue;
        }
        if (*slot != NULL || !xml_text_only(n))
            return -1;
        *slot = n;
    }
    return *key != NULL && *value != NULL ? 0 : -1;
}

/* The TagSet of a well-formed <Tagging> with every Tag well-formed, or NULL. */
static xmlNodePtr find_tag_set(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), set = NULL, key, value;
    if (root == NULL || !xml_is_element(root, "Tagging"))
        return NULL;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xml_is_element(n, "TagSet") || set != NULL)
            return NULL;
        set = n;
    }
    if (set == NULL)
        return NULL;
    for (xmlNodePtr n = set->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xml_is_element(n, "Tag") || tag_parts(n, &key, &value) != 0)
            return NULL;
    }
    return set;
}

s3err_t tagging_parse_xml(const char *body, size_t len, tagging_kind_t kind, tagging_set_t *out, const char **message)
{
    builder_t b;
    xmlDocPtr doc = NULL;
    xmlNodePtr set;
    s3err_t err = S3ERR_MALFORMED_XML;

    *message = NULL;
    builder_init(&b, out);
    doc = xml_read_doc(body, len, TAGGING_DOC_MAX, 0);
    if (doc == NULL || (set = find_tag_set(doc)) == NULL)
        goto Exit;
    for (xmlNodePtr n = set->children; n != NULL; n = n->next) {
        xmlNodePtr key, value;
        if (n->type != XML_ELEMENT_NODE)
            continue;
        tag_parts(n, &key, &value);
        xmlChar *k = xmlNodeGetContent(key), *v = xmlNodeGetContent(value);
        if (k == NULL || v == NULL)
            abort(); /* an element always has content, if empty; NULL is libxml2 out of memory */
        builder_add(&b, (const char *)k, strlen((const char *)k), (const char *)v, strlen((const char *)v));
        xmlFree(k);
        xmlFree(v);
    }
    builder_finish(&b);
    err = validate(out, kind, message);
Exit:
    if (doc != NULL)
        xmlFreeDoc(doc);
    if (err != S3ERR_NONE)
        builder_abandon(&b);
    return err;
}

void tagging_write_xml(xmlw_t *w, const tagging_set_t *s)
{
    xmlw_open(w, "Tagging " S3_XMLNS);
    xmlw_open(w, "TagSet");
    for (size_t i = 0; i < s->num_tags; i++) {
        xmlw_open(w, "Tag");
        xmlw_elem(w, "Key", s->tags[i].key, s->tags[i].key_len);
        xmlw_elem(w, "Value", s->tags[i].value, s->tags[i].value_len);
        xmlw_close(w, "Tag");
    }
    xmlw_close(w, "TagSet");
    xmlw_close(w, "Tagging");
}

/* ------------------------------------------------------------------ the query form */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes a query component ('+' is a space) into out (len bytes suffice). Returns the decoded length, or -1. */
static long query_unescape(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1, lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
            if (lo < 0)
                return -1;
            out[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[n++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    return (long)n;
}

/* Splits v into pairs; with strict, refuses what AWS refuses in the header (InvalidArgument). Returns 0 or -1. */
static int split_query(const char *v, size_t len, int strict, tagging_set_t *out)
{
    builder_t b;
    char *scratch = xrealloc(NULL, len + 1);
    int ret = -1;

    builder_init(&b, out);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && v[end] != '&')
            end++;
        if (end > i) {
            const char *eq = memchr(v + i, '=', end - i);
            size_t klen = (eq != NULL ? (size_t)(eq - v) : end) - i;
            long k = query_unescape(v + i, klen, scratch);
            if (k < 0)
                goto Exit;
            size_t voff = (size_t)k;
            long val = eq != NULL ? query_unescape(eq + 1, (size_t)(v + end - eq - 1), scratch + voff) : 0;
            if (val < 0 || (strict && (k == 0 || !utf8_valid(scratch, (size_t)k) || !utf8_valid(scratch + voff, (size_t)val))))
                goto Exit;
            for (size_t j = 0; strict && j < out->num_tags; j++) {
                if (out->tags[j].key_len == (size_t)k && memcmp(out->buf + b.offs[2 * j], scratch, (size_t)k) == 0)
                    goto Exit;
            }
            builder_add(&b, scratch, (size_t)k, scratch + voff, (size_t)val);
        }
        i = end + 1;
    }
    builder_finish(&b);
    ret = 0;
Exit:
    free(scratch);
    if (ret != 0)
        builder_abandon(&b);
    return ret;
}

s3err_t tagging_parse_query(const char *v, size_t len, tagging_kind_t kind, tagging_set_t *out, const char **message)
{
    *message = NULL;
    if (split_query(v, len, 1, out) != 0) {
        *message = msg_bad_header;
        return S3ERR_INVALID_ARGUMENT;
    }
    s3err_t err = validate(out, kind, message);
    if (err != S3ERR_NONE)
        tagging_set_free(out);
    return err;
}

int tagging_decode(const char *v, size_t len, tagging_set_t *out)
{
    return split_query(v, len, 0, out);
}

size_t tagging_count(const char *v, size_t len)
{
    size_t n = len != 0;
    for (size_t i = 0; i < len; i++)
        n += v[i] == '&';
    return n;
}

/* Appends s percent-encoded (all but the unreserved characters) at out; returns the bytes written. */
static size_t query_escape(const char *s, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    return n;
}

char *tagging_encode(const tagging_set_t *s, size_t *len)
{
    size_t cap = 1;
    for (size_t i = 0; i < s->num_tags; i++)
        cap += 3 * (s->tags[i].key_len + s->tags[i].value_len) + 2;
    char *out = xrealloc(NULL, cap);
    size_t n = 0;
    for (size_t i = 0; i < s->num_tags; i++) {
        if (i != 0)
            out[n++] = '&';
        n += query_escape(s->tags[i].key, s->tags[i].key_len, out + n);
        out[n++] = '=';
        n += query_escape(s->tags[i].value, s->tags[i].value_len, out + n);
    }
    out[n] = '\0';
    *len = n;
    return out;
}
