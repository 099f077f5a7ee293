/* server/tagging.c -- tag sets: the <Tagging> document, the x-amz-tagging header, the stored form.
 *
 * DESIGN: both input forms are first taken apart into (key, value) pairs in a
 * set sized once from the input (one array of tags, one buffer of their bytes),
 * then one validator applies AWS's rules in AWS's order: the number of
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

#include "auth/sigv4.h"

static const char msg_too_many_object[] = "Object tags cannot be greater than 10";
static const char msg_too_many_bucket[] = "Bucket tag count cannot be greater than 50";
static const char msg_bad_key[] = "The TagKey you have provided is invalid";
static const char msg_bad_value[] = "The TagValue you have provided is invalid";
static const char msg_duplicate[] = "Cannot provide multiple Tags with the same key";
static const char msg_system_object[] = "Your TagKey cannot be prefixed with aws:";
static const char msg_system_bucket[] = "System tags cannot be added/updated by requester";
static const char msg_bad_header[] =
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

static void *xmalloc(size_t n)
{
    void *p = malloc(n != 0 ? n : 1);
    if (p == NULL)
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

/* Readies out for up to max_tags tags whose keys and values take at most max_bytes bytes, their NULs included.
 * Both forms know these bounds before the first tag is added, so the buffer never moves and tags point into it. */
static void set_alloc(tagging_set_t *out, size_t max_tags, size_t max_bytes)
{
    out->num_tags = 0;
    out->tags = xmalloc(max_tags * sizeof(*out->tags));
    out->buf = xmalloc(max_bytes);
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

/* The only TagSet of a <Tagging> document, or NULL. */
static xmlNodePtr find_tag_set(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), set = NULL;
    if (root == NULL || !xml_is_element(root, "Tagging"))
        return NULL;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xml_is_element(n, "TagSet") || set != NULL)
            return NULL;
        set = n;
    }
    return set;
}

/* The length of a text-only element's text: its text and CDATA children, as xmlNodeGetContent would join them. */
static size_t text_len(xmlNodePtr n)
{
    size_t len = 0;
    for (xmlNodePtr c = n->children; c != NULL; c = c->next)
        len += c->content != NULL ? strlen((const char *)c->content) : 0;
    return len;
}

/* Copies a text-only element's text (text_len(n) bytes) and a NUL to out; returns the text's length. */
static size_t text_copy(xmlNodePtr n, char *out)
{
    size_t len = 0;
    for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
        if (c->content != NULL) {
            size_t part = strlen((const char *)c->content);
            memcpy(out + len, c->content, part);
            len += part;
        }
    }
    out[len] = '\0';
    return len;
}

s3err_t tagging_parse_xml(const char *body, size_t len, tagging_kind_t kind, tagging_set_t *out, const char **message)
{
    xmlDocPtr doc;
    xmlNodePtr set, (*parts)[2] = NULL; /* each Tag's Key and Value: the text is sized before it is copied */
    size_t num_tags = 0, cap = 0, num_bytes = 0;
    s3err_t err = S3ERR_MALFORMED_XML;

    *message = NULL;
    memset(out, 0, sizeof(*out));
    doc = xml_read_doc(body, len, TAGGING_DOC_MAX, 0);
    if (doc == NULL || (set = find_tag_set(doc)) == NULL)
        goto Exit;
    for (xmlNodePtr n = set->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (num_tags == cap) {
            cap = cap != 0 ? 2 * cap : 16;
            if ((parts = realloc(parts, cap * sizeof(*parts))) == NULL)
                abort();
        }
        if (!xml_is_element(n, "Tag") || tag_parts(n, &parts[num_tags][0], &parts[num_tags][1]) != 0)
            goto Exit;
        num_bytes += text_len(parts[num_tags][0]) + text_len(parts[num_tags][1]) + 2;
        num_tags++;
    }
    set_alloc(out, num_tags, num_bytes);
    char *p = out->buf;
    for (size_t i = 0; i < num_tags; i++) {
        tagging_tag_t *t = &out->tags[out->num_tags++];
        t->key = p;
        t->key_len = text_copy(parts[i][0], p);
        p += t->key_len + 1;
        t->value = p;
        t->value_len = text_copy(parts[i][1], p);
        p += t->value_len + 1;
    }
    err = validate(out, kind, message);
Exit:
    free(parts);
    if (doc != NULL)
        xmlFreeDoc(doc);
    if (err != S3ERR_NONE)
        tagging_set_free(out);
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

/* Decodes a query component ('+' is a space, "%2B" a '+') into out (len bytes suffice). Returns the decoded length, or -1.
 * Not sigv4_uri_decode, which keeps '+': mapping '+' after it would also turn "%2B" into a space, and mapping before it
 * means decoding in place, which its contract does not promise. */
static long query_unescape(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] != '%') {
            out[n++] = s[i] == '+' ? ' ' : s[i];
            continue;
        }
        if (len - i < 3 || (hi = sigv4_hex_digit((unsigned char)s[i + 1])) < 0 ||
            (lo = sigv4_hex_digit((unsigned char)s[i + 2])) < 0)
            return -1;
        out[n++] = (char)(hi << 4 | lo);
        i += 2;
    }
    return (long)n;
}

/* Splits v into pairs; with strict, refuses what AWS refuses in the header (InvalidArgument). Returns 0 or -1.
 * Sizes: a part of n bytes yields at most n + 2 bytes (decoding never grows, and a part without '=' gains an
 * empty value), and there are at most tagging_count(v) parts. */
static int split_query(const char *v, size_t len, int strict, tagging_set_t *out)
{
    size_t max_tags = tagging_count(v, len);
    set_alloc(out, max_tags, len + 2 * max_tags);
    char *p = out->buf;
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && v[end] != '&')
            end++;
        if (end > i) {
            const char *eq = memchr(v + i, '=', end - i);
            long k = query_unescape(v + i, (size_t)((eq != NULL ? eq : v + end) - (v + i)), p);
            if (k < 0)
                goto Fail;
            p[k] = '\0';
            char *value = p + k + 1;
            long val = eq != NULL ? query_unescape(eq + 1, (size_t)(v + end - eq - 1), value) : 0;
            if (val < 0 || (strict && (k == 0 || !utf8_valid(p, (size_t)k) || !utf8_valid(value, (size_t)val))))
                goto Fail;
            value[val] = '\0';
            for (size_t j = 0; strict && j < out->num_tags; j++) {
                if (out->tags[j].key_len == (size_t)k && memcmp(out->tags[j].key, p, (size_t)k) == 0)
                    goto Fail;
            }
            out->tags[out->num_tags++] = (tagging_tag_t){p, (size_t)k, value, (size_t)val};
            p = value + val + 1;
        }
        i = end + 1;
    }
    return 0;
Fail:
    tagging_set_free(out);
    return -1;
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

size_t tagging_encoded_size(const tagging_set_t *s)
{
    size_t size = 1;
    for (size_t i = 0; i < s->num_tags; i++)
        size += 3 * (s->tags[i].key_len + s->tags[i].value_len) + 2;
    return size;
}

size_t tagging_encode(const tagging_set_t *s, char *out)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < s->num_tags; i++) {
        if (i != 0)
            out[n++] = '&';
        n += sigv4_uri_encode(s->tags[i].key, s->tags[i].key_len, 0, out + n);
        out[n++] = '=';
        n += sigv4_uri_encode(s->tags[i].value, s->tags[i].value_len, 0, out + n);
    }
    return n;
}
