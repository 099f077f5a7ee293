/* server/xml.h -- S3 XML out (an escaping writer into a growable buffer) and in (libxml2). */
#ifndef COFFER_XML_H
#define COFFER_XML_H

#include <libxml/tree.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/checksum.h"

/** The S3 namespace attribute every response root carries. */
#define S3_XMLNS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

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

#define S3_ETAG_MAX 48
/** Formats an ETag: "\"<hex>\"", or "\"<hex>-<num_parts>\"" for a multipart object. Returns its length. */
size_t s3_format_etag(const uint8_t md5[16], uint32_t num_parts, char out[S3_ETAG_MAX]);
/** <tag>"md5hex-N"</tag>, the ETag of an object completed from num_parts parts; with 0 parts, as xmlw_elem_etag. */
void xmlw_elem_etag_parts(xmlw_t *w, const char *tag, const uint8_t md5[16], uint32_t num_parts);

/**
 * Reads a request body as a document, with network and DTD loading off (XML_PARSE_NONET, no
 * XML_PARSE_DTDLOAD/NOENT). Returns the document (free it with xmlFreeDoc), or NULL for a body
 * over max_len, one that is not well-formed, or one that carries a DTD: no S3 body has one, and
 * without a DTD no entity but the five predefined ones can appear, so nothing is left for
 * xmlNodeGetContent to expand. keep_blanks keeps whitespace-only text nodes (object keys are
 * taken verbatim); without it they are dropped.
 */
xmlDocPtr xml_read_doc(const char *body, size_t len, size_t max_len, int keep_blanks);

/** Whether n is an element named local_name; the namespace is not looked at, so a body may or may not carry S3's. */
int xml_is_element(xmlNodePtr n, const char *local_name);

/** Whether n holds only text and CDATA (no element, comment or entity reference among its children). */
int xml_text_only(xmlNodePtr n);

/**
 * Copies n's text, trimmed of XML whitespace (space, tab, CR, LF), into out (room for max_len + 1 bytes)
 * as a NUL-terminated string. Returns its length, or -1 when it is longer than max_len.
 */
int xml_trimmed_text(xmlNodePtr n, char *out, size_t max_len);

/**
 * Parses a CreateBucketConfiguration body. An empty body is valid (region "").
 * Returns 0, or -1 for a document that is not well-formed, has a DTD or is not a CreateBucketConfiguration.
 */
int xml_parse_create_bucket(const char *body, size_t len, char *region, size_t region_len);

/** The largest CompleteMultipartUpload body parsed: 10000 parts, each with a checksum, fit with room to spare. */
#define XML_COMPLETE_MULTIPART_MAX_LEN (8 * 1024 * 1024)

typedef struct xml_complete_part {
    uint32_t part_number;
    char etag[72];                    /* as given, quotes stripped ("abc" -> abc), NUL-terminated */
    cksum_alg_t checksum_alg;         /* from a ChecksumCRC32 (...) element, or CKSUM_NONE */
    char checksum[CKSUM_BASE64_SIZE]; /* its value as given, NUL-terminated */
} xml_complete_part_t;

/**
 * Parses a CompleteMultipartUpload body into parts (room for max_parts).
 * Returns the number of parts (>= 1), or -1 for MalformedXML: not well-formed, root
 * not CompleteMultipartUpload, no Part, a Part without PartNumber or ETag, a PartNumber
 * that is not a decimal integer in 1..10000, an ETag longer than 70 chars, more than max_parts parts.
 * Also -1: a document with a DTD, a Part with two PartNumber or ETag elements, a body over
 * XML_COMPLETE_MULTIPART_MAX_LEN. Parts come in document order; order and duplicates are the
 * caller's to check (InvalidPartOrder). One Checksum<ALG> element (ChecksumCRC32, ...) is
 * kept as given (two, or one longer than a SHA256's base64, are -1); other child elements are ignored.
 */
int xml_parse_complete_multipart(const char *body, size_t len, xml_complete_part_t *parts, size_t max_parts);

/** The largest Delete (DeleteObjects) body parsed: 1000 keys of 1024 bytes, each byte written as a character reference, fit. */
#define XML_DELETE_MAX_LEN (8 * 1024 * 1024)
/** The longest VersionId kept (a key of any length is kept: judging it is the operation's job). */
#define XML_DELETE_VERSION_ID_MAX 1024

/** One <Object> of a Delete body. */
typedef struct xml_delete_object {
    char *key; /* owned, NUL-terminated: the text exactly as given (entities decoded, no trimming); may be empty */
    size_t key_len;
    char *version_id; /* owned, NUL-terminated, or NULL when the Object has no VersionId */
    size_t version_id_len;
    int has_conditions; /* an ETag, LastModifiedTime or Size element asks for a conditional delete */
} xml_delete_object_t;

typedef struct xml_delete {
    int quiet; /* <Quiet>true</Quiet>: list only the keys that failed */
    size_t num_objects;
    xml_delete_object_t *objects; /* owned: in document order, duplicates kept */
} xml_delete_t;

/**
 * Parses a DeleteObjects body (<Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>,
 * with or without the S3 namespace) into out; free it with xml_delete_free. Returns 0, or -1
 * for MalformedXML: not well-formed, a DTD, root not Delete, no Object or more than
 * max_objects, an Object without a Key or with two Keys or VersionIds, a Key or VersionId
 * holding an element, a VersionId longer than XML_DELETE_VERSION_ID_MAX, a
 * Quiet that is not a boolean or given twice, a body over XML_DELETE_MAX_LEN. Other elements
 * are ignored. On -1 out holds nothing to free.
 */
int xml_parse_delete(const char *body, size_t len, size_t max_objects, xml_delete_t *out);

void xml_delete_free(xml_delete_t *d);

/** Formats unix_ns as ISO 8601 with milliseconds into out (at least 25 bytes). */
void xml_format_time(int64_t unix_ns, char *out);

#endif
