/* server/xml.c -- S3 XML in and out.
 *
 * DESIGN: responses are written by a small escaping writer straight into one
 * growable buffer: listing 1000 keys must not cost 1000 allocations. Request
 * bodies are parsed with libxml2 with the network and DTD loading off
 * (XML_PARSE_NONET, no XML_PARSE_DTDLOAD/NOENT), so no entity can reach a file
 * or expand without bound. */
#include "server/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void xmlw_elem_etag(xmlw_t *w, const char *tag, const uint8_t md5[16])
{
    static const char hex[] = "0123456789abcdef";
    char t[48];
    memcpy(t, "&quot;", 6);
    for (int i = 0; i < 16; ++i) {
        t[6 + 2 * i] = hex[md5[i] >> 4];
        t[7 + 2 * i] = hex[md5[i] & 15];
    }
    memcpy(t + 38, "&quot;", 6);
    xmlw_open(w, tag);
    xmlw_raw(w, t, 44);
    xmlw_close(w, tag);
}

/* Parses with network and DTD loading off; NULL for a body that is not well-formed. */
static xmlDocPtr parse_body(const char *body, size_t len)
{
    if (len > 1024 * 1024)
        return NULL;
    return xmlReadMemory(body, (int)len, NULL, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

int xml_parse_create_bucket(const char *body, size_t len, char *region, size_t region_len)
{
    region[0] = '\0';
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        ++i;
    if (i == len)
        return 0;
    xmlDocPtr doc = parse_body(body, len);
    if (doc == NULL)
        return -1;
    int ret = -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (root == NULL || xmlStrcmp(root->name, BAD_CAST "CreateBucketConfiguration") != 0)
        goto Exit;
    for (xmlNodePtr n = root->children; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST "LocationConstraint") == 0) {
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
