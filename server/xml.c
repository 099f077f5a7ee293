/* server/xml.c -- S3 XML in and out.
 *
 * DESIGN: responses are written by a small escaping writer straight into one
 * growable buffer: listing 1000 keys must not cost 1000 allocations. Request
 * bodies are parsed with libxml2 with the network and DTD loading off
 * (XML_PARSE_NONET, no XML_PARSE_DTDLOAD/NOENT), and a document that carries a
 * DTD at all is refused, so no entity can reach a file or expand without bound.
 * Elements are matched by local name, so a body may or may not carry the S3
 * namespace. */
#include "server/xml.h"

#include <libxml/parser.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/text.h"

static void reserve(xmlw_t *w, size_t extra)
{
    if (w->len + extra <= w->cap)
        return;
    size_t cap = w->cap != 0 ? w->cap : 1024;
    while (cap < w->len + extra)
        cap *= 2;
    if ((w->buf = realloc(w->buf, cap)) == NULL)
        abort();
    w->cap = cap;
}

void xmlw_init(xmlw_t *w)
{
    w->buf = NULL;
    w->len = w->cap = 0;
    xmlw_raw(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39);
}

void xmlw_free(xmlw_t *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void xmlw_raw(xmlw_t *w, const char *s, size_t len)
{
    reserve(w, len);
    memcpy(w->buf + w->len, s, len);
    w->len += len;
}

void xmlw_open(xmlw_t *w, const char *tag)
{
    xmlw_raw(w, "<", 1);
    xmlw_raw(w, tag, strlen(tag));
    xmlw_raw(w, ">", 1);
}

void xmlw_close(xmlw_t *w, const char *tag)
{
    size_t n = strcspn(tag, " ");
    xmlw_raw(w, "</", 2);
    xmlw_raw(w, tag, n);
    xmlw_raw(w, ">", 1);
}

static void escape(xmlw_t *w, const char *s, size_t len)
{
    reserve(w, len * 6);
    char *o = w->buf + w->len;
    for (size_t i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            memcpy(o, "&amp;", 5), o += 5;
            break;
        case '<':
            memcpy(o, "&lt;", 4), o += 4;
            break;
        case '>':
            memcpy(o, "&gt;", 4), o += 4;
            break;
        case '"':
            memcpy(o, "&quot;", 6), o += 6;
            break;
        case '\'':
            memcpy(o, "&apos;", 6), o += 6;
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                o += sprintf(o, "&#x%X;", c);
            } else {
                *o++ = (char)c;
            }
        }
    }
    w->len = (size_t)(o - w->buf);
}

void xmlw_elem(xmlw_t *w, const char *tag, const char *text, size_t len)
{
    xmlw_open(w, tag);
    escape(w, text, len);
    xmlw_close(w, tag);
}

void xmlw_elem_str(xmlw_t *w, const char *tag, const char *text)
{
    xmlw_elem(w, tag, text, strlen(text));
}

void xmlw_elem_u64(xmlw_t *w, const char *tag, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    xmlw_open(w, tag);
    xmlw_raw(w, num, (size_t)n);
    xmlw_close(w, tag);
}

void xml_format_time(int64_t unix_ns, char *out)
{
    time_t secs = (time_t)(unix_ns / 1000000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 21, "%Y-%m-%dT%H:%M:%S", &tm);
    int ms = (int)((unix_ns / 1000000) % 1000);
    out[n] = '.';
    out[n + 1] = (char)('0' + ms / 100);
    out[n + 2] = (char)('0' + ms / 10 % 10);
    out[n + 3] = (char)('0' + ms % 10);
    out[n + 4] = 'Z';
    out[n + 5] = '\0';
}

void xmlw_elem_time(xmlw_t *w, const char *tag, int64_t unix_ns)
{
    char t[32];
    xml_format_time(unix_ns, t);
    xmlw_elem_str(w, tag, t);
}

size_t s3_format_etag(const uint8_t md5[16], uint32_t num_parts, char out[S3_ETAG_MAX])
{
    size_t n = 0;
    out[n++] = '"';
    text_hex(md5, 16, out + n);
    n += 32;
    if (num_parts != 0)
        n += (size_t)snprintf(out + n, S3_ETAG_MAX - n, "-%u", (unsigned)num_parts);
    out[n++] = '"';
    out[n] = '\0';
    return n;
}

void xmlw_elem_etag_parts(xmlw_t *w, const char *tag, const uint8_t md5[16], uint32_t num_parts)
{
    char etag[S3_ETAG_MAX];
    xmlw_elem(w, tag, etag, s3_format_etag(md5, num_parts, etag)); /* the quotes are written as &quot; */
}

void xmlw_elem_etag(xmlw_t *w, const char *tag, const uint8_t md5[16])
{
    xmlw_elem_etag_parts(w, tag, md5, 0);
}

xmlDocPtr xml_read_doc(const char *body, size_t len, size_t max_len, int keep_blanks)
{
    if (len > max_len || len > INT_MAX)
        return NULL;
    xmlDocPtr doc =
        xmlReadMemory(body, (int)len, NULL, NULL,
                      XML_PARSE_NONET | (keep_blanks ? 0 : XML_PARSE_NOBLANKS) | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc != NULL && (doc->intSubset != NULL || doc->extSubset != NULL)) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

int xml_is_element(xmlNodePtr n, const char *local_name)
{
    return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST local_name) == 0;
}

int xml_text_only(xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
            return 0;
    }
    return 1;
}

static int is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int xml_trimmed_text(xmlNodePtr n, char *out, size_t max_len)
{
    xmlChar *content = xmlNodeGetContent(n);
    if (content == NULL)
        abort(); /* an element always has content, if empty; NULL is libxml2 out of memory */
    const char *s = (const char *)content, *end = s + strlen(s);
    while (s < end && is_xml_space(*s))
        ++s;
    while (end > s && is_xml_space(end[-1]))
        --end;
    int ret = -1;
    size_t len = (size_t)(end - s);
    if (len <= max_len) {
        memcpy(out, s, len);
        out[len] = '\0';
        ret = (int)len;
    }
    xmlFree(content);
    return ret;
}

/* A PartNumber: decimal digits only (no sign, no spaces inside), 1..10000. */
static int parse_part_number(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint32_t)(*s - '0');
        if (v > 10000)
            return -1;
    }
    if (v < 1)
        return -1;
    *out = v;
    return 0;
}

/* Fills part from a <Part> element; -1 when it lacks, repeats or has a bad PartNumber or ETag. */
static int parse_part(xmlNodePtr part_node, xml_complete_part_t *part)
{
    char number[16];
    int have_number = 0, have_etag = 0;
    part->checksum_alg = CKSUM_NONE;
    part->checksum[0] = '\0';
    for (xmlNodePtr n = part_node->children; n != NULL; n = n->next) {
        if (xml_is_element(n, "PartNumber")) {
            if (have_number)
                return -1;
            have_number = 1;
            if (xml_trimmed_text(n, number, sizeof(number) - 1) < 0 || parse_part_number(number, &part->part_number) != 0)
                return -1;
        } else if (xml_is_element(n, "ETag")) {
            if (have_etag)
                return -1;
            have_etag = 1;
            char etag[sizeof(part->etag) + 2]; /* room for the quotes about to be stripped */
            int len = xml_trimmed_text(n, etag, sizeof(etag) - 1);
            if (len < 0)
                return -1;
            const char *s = etag;
            if (len >= 2 && etag[0] == '"' && etag[len - 1] == '"') {
                ++s;
                len -= 2;
            }
            if (len > 70)
                return -1;
            memcpy(part->etag, s, (size_t)len);
            part->etag[len] = '\0';
        } else if (n->type == XML_ELEMENT_NODE && strncmp((const char *)n->name, "Checksum", 8) == 0) {
            const char *alg_name = (const char *)n->name + 8;
            cksum_alg_t a = cksum_alg_from_name(alg_name, strlen(alg_name));
            if (a == CKSUM_NONE || strcmp(alg_name, cksum_alg_name(a)) != 0)
                continue; /* ChecksumType and the like */
            if (part->checksum_alg != CKSUM_NONE || xml_trimmed_text(n, part->checksum, sizeof(part->checksum) - 1) < 0)
                return -1;
            part->checksum_alg = a;
        }
    }
    return have_number && have_etag ? 0 : -1;
}

int xml_parse_complete_multipart(const char *body, size_t len, xml_complete_part_t *parts, size_t max_parts)
{
    xmlDocPtr doc = xml_read_doc(body, len, XML_COMPLETE_MULTIPART_MAX_LEN, 0);
    if (doc == NULL)
        return -1;
    int ret = -1;
    size_t num_parts = 0;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || !xml_is_element(root, "CompleteMultipartUpload"))
        goto Exit;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        if (!xml_is_element(n, "Part"))
            continue;
        if (num_parts == max_parts || parse_part(n, &parts[num_parts]) != 0)
            goto Exit;
        ++num_parts;
    }
    if (num_parts > 0)
        ret = (int)num_parts;
Exit:
    xmlFreeDoc(doc);
    return ret;
}

int xml_parse_create_bucket(const char *body, size_t len, char *region, size_t region_len)
{
    region[0] = '\0';
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        ++i;
    if (i == len)
        return 0;
    xmlDocPtr doc = xml_read_doc(body, len, 1024 * 1024, 0);
    if (doc == NULL)
        return -1;
    int ret = -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || !xml_is_element(root, "CreateBucketConfiguration"))
        goto Exit;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        if (xml_is_element(n, "LocationConstraint")) {
            xmlChar *text = xmlNodeGetContent(n);
            if (text != NULL) {
                snprintf(region, region_len, "%s", (const char *)text);
                xmlFree(text);
            }
        }
    }
    ret = 0;
Exit:
    xmlFreeDoc(doc);
    return ret;
}

/* Copies a Key or VersionId element's text exactly as given (no trimming: " " is a key) into a
 * new NUL-terminated string. Returns its length, or -1 when the element holds another element
 * or its text is longer than max_len. */
static long exact_text(xmlNodePtr n, size_t max_len, char **out)
{
    for (xmlNodePtr c = n->children; c != NULL; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return -1;
    xmlChar *content = xmlNodeGetContent(n);
    if (content == NULL)
        abort(); /* libxml2 out of memory */
    size_t len = strlen((const char *)content);
    long ret = -1;
    if (len <= max_len) {
        if ((*out = malloc(len + 1)) == NULL)
            abort();
        memcpy(*out, content, len + 1);
        ret = (long)len;
    }
    xmlFree(content);
    return ret;
}

/* Fills o from an <Object> element; -1 when it has no Key, two Keys or two VersionIds, or a VersionId too long. */
static int parse_delete_object(xmlNodePtr object_node, xml_delete_object_t *o)
{
    long n;
    for (xmlNodePtr c = object_node->children; c != NULL; c = c->next) {
        if (xml_is_element(c, "Key")) {
            if (o->key != NULL || (n = exact_text(c, SIZE_MAX, &o->key)) < 0)
                return -1;
            o->key_len = (size_t)n;
        } else if (xml_is_element(c, "VersionId")) {
            if (o->version_id != NULL || (n = exact_text(c, XML_DELETE_VERSION_ID_MAX, &o->version_id)) < 0)
                return -1;
            o->version_id_len = (size_t)n;
        } else if (xml_is_element(c, "ETag") || xml_is_element(c, "LastModifiedTime") || xml_is_element(c, "Size")) {
            o->has_conditions = 1;
        }
    }
    return o->key != NULL ? 0 : -1;
}

/* Reads <Quiet>: xsd:boolean (true, false, 1, 0), case-insensitive as AWS reads it. Returns 0 or -1. */
static int parse_quiet(xmlNodePtr n, int *quiet)
{
    char text[8];
    if (xml_trimmed_text(n, text, sizeof(text) - 1) < 0)
        return -1;
    if (strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0)
        *quiet = 1;
    else if (strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0)
        *quiet = 0;
    else
        return -1;
    return 0;
}

int xml_parse_delete(const char *body, size_t len, size_t max_objects, xml_delete_t *out)
{
    memset(out, 0, sizeof(*out));
    xmlDocPtr doc = xml_read_doc(body, len, XML_DELETE_MAX_LEN, 1);
    if (doc == NULL)
        return -1;
    int ret = -1, have_quiet = 0;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || !xml_is_element(root, "Delete"))
        goto Exit;
    size_t cap = 0;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        if (xml_is_element(n, "Quiet")) {
            if (have_quiet || parse_quiet(n, &out->quiet) != 0)
                goto Exit;
            have_quiet = 1;
        } else if (xml_is_element(n, "Object")) {
            if (out->num_objects == max_objects)
                goto Exit;
            if (out->num_objects == cap) {
                cap = cap != 0 ? 2 * cap : 16;
                if ((out->objects = realloc(out->objects, cap * sizeof(*out->objects))) == NULL)
                    abort();
            }
            xml_delete_object_t *o = &out->objects[out->num_objects++];
            memset(o, 0, sizeof(*o));
            if (parse_delete_object(n, o) != 0)
                goto Exit;
        }
    }
    if (out->num_objects > 0)
        ret = 0;
Exit:
    xmlFreeDoc(doc);
    if (ret != 0)
        xml_delete_free(out);
    return ret;
}

void xml_delete_free(xml_delete_t *d)
{
    for (size_t i = 0; i < d->num_objects; i++) {
        free(d->objects[i].key);
        free(d->objects[i].version_id);
    }
    free(d->objects);
    memset(d, 0, sizeof(*d));
}
