/* server/xml.h -- S3 XML out (an escaping writer into a growable buffer) and in (libxml2). */
#ifndef COFFER_XML_H
#define COFFER_XML_H

#include <stddef.h>
#include <stdint.h>

/** A growable output buffer; buf is owned (free with xmlw_free). */
typedef struct xmlw {
    char *buf;
    size_t len;
    size_t cap;
} xmlw_t;

/** Starts a document with the XML declaration. */
void xmlw_init(xmlw_t *w);
void xmlw_free(xmlw_t *w);
/** Appends raw bytes (no escaping). */
void xmlw_raw(xmlw_t *w, const char *s, size_t len);
/** <tag> ; tag may carry attributes ("ListBucketResult xmlns=\"...\""), closing uses the first word. */
void xmlw_open(xmlw_t *w, const char *tag);
void xmlw_close(xmlw_t *w, const char *tag);
/** <tag>escaped text</tag>. Control characters become &#xN; as AWS writes them. */
void xmlw_elem(xmlw_t *w, const char *tag, const char *text, size_t len);
void xmlw_elem_str(xmlw_t *w, const char *tag, const char *text);
void xmlw_elem_u64(xmlw_t *w, const char *tag, uint64_t v);
/** <tag>YYYY-MM-DDTHH:MM:SS.mmmZ</tag> */
void xmlw_elem_time(xmlw_t *w, const char *tag, int64_t unix_ns);
/** <tag>"md5hex"</tag> (quotes escaped as &quot;) */
void xmlw_elem_etag(xmlw_t *w, const char *tag, const uint8_t md5[16]);

/**
 * Parses a CreateBucketConfiguration body. An empty body is valid (region "").
 * Returns 0, or -1 for a document that is not well-formed or not a CreateBucketConfiguration.
 */
int xml_parse_create_bucket(const char *body, size_t len, char *region, size_t region_len);

/** Formats unix_ns as ISO 8601 with milliseconds into out (at least 25 bytes). */
void xml_format_time(int64_t unix_ns, char *out);

#endif
