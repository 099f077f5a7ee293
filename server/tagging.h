/* server/tagging.h -- object and bucket tags: parsed, validated, stored, written back.
 *
 * DESIGN: a tag set arrives in two forms, the <Tagging> document of
 * Put{Object,Bucket}Tagging (and of a POST form's "tagging" field) and the
 * x-amz-tagging header of PutObject / CreateMultipartUpload (URL query encoding,
 * "k1=v1&k2=v2"). Both parse into a tagging_set_t and pass the same checks, with
 * AWS's limits and texts. A set is stored in one canonical form, the query
 * encoding with every byte but A-Z a-z 0-9 - _ . ~ percent-encoded, in the order
 * given: objects keep it as their stored header "x-amz-tagging" (never sent back
 * verbatim: GET/HEAD answer x-amz-tagging-count), buckets as their "tagging"
 * configuration document. The parsing and writing functions are pure. */
#ifndef COFFER_TAGGING_H
#define COFFER_TAGGING_H

#include <stddef.h>

#include "server/s3err.h"
#include "server/xml.h"
#include "storage/store.h"

#define TAGGING_HEADER "x-amz-tagging"             /* the request header, and the stored header's name */
#define TAGGING_COUNT_HEADER "x-amz-tagging-count" /* what GET and HEAD answer instead */
#define TAGGING_BUCKET_CONF "tagging"              /* the bucket configuration document holding a bucket's tags */
#define TAGGING_OBJECT_MAX 10
#define TAGGING_BUCKET_MAX 50
#define TAGGING_KEY_MAX 128   /* Unicode characters */
#define TAGGING_VALUE_MAX 256 /* Unicode characters */
#define TAGGING_DOC_MAX (256 * 1024)

typedef enum tagging_kind {
    TAGGING_OBJECT, /* at most 10 tags */
    TAGGING_BUCKET, /* at most 50 tags */
} tagging_kind_t;

typedef struct tagging_tag {
    const char *key; /* borrowed from the set's buffer; NUL-terminated */
    size_t key_len;
    const char *value; /* borrowed from the set's buffer; NUL-terminated */
    size_t value_len;
} tagging_tag_t;

typedef struct tagging_set {
    size_t num_tags;
    tagging_tag_t *tags; /* owned */
    char *buf;           /* owned: the keys' and values' bytes */
} tagging_set_t;

void tagging_set_free(tagging_set_t *s);

/**
 * Parses and validates a <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>
 * document (with or without the S3 namespace) into out. Returns S3ERR_NONE, or the error
 * with *message set to AWS's text: MalformedXML (not well-formed, a DTD, over
 * TAGGING_DOC_MAX bytes, another root, no TagSet or two, a Tag without exactly one Key and
 * one Value, markup inside them), BadRequest (more tags than the kind allows), InvalidTag
 * (a key or value of bad length or characters, a repeated key, a key starting with "aws:").
 * out needs tagging_set_free only on S3ERR_NONE.
 */
s3err_t tagging_parse_xml(const char *body, size_t len, tagging_kind_t kind, tagging_set_t *out, const char **message);

/**
 * Parses and validates an x-amz-tagging header ("k1=v1&k2=v2": '+' and %XX decoded, a
 * part without '=' has an empty value, empty parts are skipped). Returns S3ERR_NONE (an
 * empty header gives an empty set), InvalidArgument (a bad escape, an empty key, a key
 * given twice, bytes that are not UTF-8), BadRequest (too many tags) or InvalidTag (as
 * tagging_parse_xml), with *message set. out needs tagging_set_free only on S3ERR_NONE.
 */
s3err_t tagging_parse_query(const char *v, size_t len, tagging_kind_t kind, tagging_set_t *out, const char **message);

/** Decodes a stored (canonical) tag set without validating it. Returns 0, or -1 when it is not query-encoded. */
int tagging_decode(const char *v, size_t len, tagging_set_t *out);

/** The bytes tagging_encode may write for s, its terminating NUL included: a size for the caller's buffer. */
size_t tagging_encoded_size(const tagging_set_t *s);

/** Writes the canonical form of s, NUL-terminated, into out (tagging_encoded_size(s) bytes); returns its length (0 for no tags). */
size_t tagging_encode(const tagging_set_t *s, char *out);

/** The number of tags in a stored (canonical) set. */
size_t tagging_count(const char *v, size_t len);

/** Writes <Tagging xmlns="..."><TagSet><Tag><Key>..</Key><Value>..</Value></Tag>...</TagSet></Tagging>. */
void tagging_write_xml(xmlw_t *w, const tagging_set_t *s);

/* ------------------------------------------------------------------ server glue (ops_tagging.c) */

struct s3_req;

/**
 * Reads the request's x-amz-tagging header for PutObject, CreateMultipartUpload, and
 * CopyObject with x-amz-tagging-directive: REPLACE. Returns S3ERR_NONE with *found = 1 and
 * *out = {"x-amz-tagging", canonical form in the request's pool} when the header names at
 * least one tag, *found = 0 when it is absent or names none; or the error to answer with
 * *message (a static string) as tagging_parse_query says.
 */
s3err_t s3_tagging_from_header(struct s3_req *r, store_kv_t *out, int *found, const char **message);

/** As s3_tagging_from_header, for an object's <Tagging> document (the "tagging" field of a POST form). */
s3err_t s3_tagging_from_document(struct s3_req *r, const char *doc, size_t len, store_kv_t *out, int *found, const char **message);

#endif
