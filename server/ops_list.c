/* server/ops_list.c -- ListObjects (V1), ListObjectsV2 and ListObjectVersions.
 *
 * DESIGN: storage walks the bucket in S3 order and rolls keys up into common
 * prefixes (seeking past each one); this file only validates parameters and
 * writes the XML, one walk for the three listings. A V2 continuation token is
 * the base64url of the last key or prefix returned, i.e. an exclusive start
 * point, like a V1 marker or a versions key-marker: it stays valid however the
 * bucket changes in between (a key that exists throughout is listed exactly
 * once), and needs no server-side state.
 *
 * Coffer has no versioning yet: every object is its only version, "null", and
 * the latest. ListObjectVersions is therefore the V1 walk with <Version>
 * entries; a version-id-marker can only name that "null" version, after which
 * the key has no more versions, so the walk starts after the key-marker.
 *
 * encoding-type=url encodes values the way S3 does (measured against AWS by
 * others, and what botocore's unquote_plus expects): letters, digits, "-_.*"
 * and '/' stay, a space becomes '+', every other byte %XX. Without it, values
 * go out XML-escaped; control characters become &#xN; as AWS writes them, and
 * bytes that are not UTF-8 (a prefix cut inside a character) become U+FFFD so
 * the document stays parseable.
 *
 * An entry's Owner is the object's: the one its stored ACL names, or the bucket
 * owner for an object without one (authz.h). Storage's walk decodes only each
 * record's head, so a record cursor (storage/record_cursor.h) reads the ACL
 * header in step with it, and the owners' display names are resolved once per
 * listing (authz_owners_t), not once per entry. A V2 listing without
 * fetch-owner reads neither. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/authz.h"
#include "server/handler.h"
#include "storage/record_cursor.h"

typedef enum list_kind {
    LIST_V1,
    LIST_V2,
    LIST_VERSIONS,
} list_kind_t;

typedef struct list_state {
    list_kind_t kind;
    int url_encode;
    int fetch_owner; /* V2: Owner in each Contents (V1 and versions always have it) */
    store_list_params_t params;
    size_t max_keys;
    const char *marker; /* V1 marker, V2 start-after, versions key-marker, as given; NULL when absent or empty */
    size_t marker_len;
    const char *version_marker; /* versions: version-id-marker as given, or NULL */
    size_t version_marker_len;
    const char *token; /* V2 continuation-token as given (may be ""), or NULL */
    size_t token_len;
} list_state_t;

typedef struct list_walk {
    s3_job_t *job;
    list_state_t *st;
    store_cursor_t *records; /* owned; opened at the first entry that shows its owner */
    authz_owners_t owners;
    xmlw_t entries;  /* <Contents> or <Version>, in key order */
    xmlw_t prefixes; /* <CommonPrefixes>, in order; S3 writes them after the entries */
    size_t count;
    int last_is_prefix;
    char last[STORE_KEY_MAX + 1];
    size_t last_len;
} list_walk_t;

/* ------------------------------------------------------------------ values in XML */

/* Length of the UTF-8 sequence at s (at most len bytes) if it encodes an XML character, else 0. */
static size_t xml_utf8_len(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, cp = c & 0x07;
    else
        return 0; /* a continuation byte, or a lead byte no valid sequence starts with */
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0; /* overlong, or past Unicode */
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0; /* surrogates and the two non-characters XML excludes */
    return n;
}

/* Writes v as S3's encoding-type=url does into out (room for 3 * len bytes); returns the length. */
static size_t url_encode_value(const char *v, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '*' || c == '/') {
            out[n++] = (char)c;
        } else if (c == ' ') {
            out[n++] = '+';
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    return n;
}

void s3_xml_key(xmlw_t *w, const char *tag, const char *v, size_t len, int url_encode)
{
    const unsigned char *s = (const unsigned char *)v;
    size_t i = 0, step;
    if (!url_encode) {
        while (i < len && (step = xml_utf8_len(s + i, len - i)) != 0)
            i += step;
        if (i == len) { /* the usual case: valid UTF-8 goes out as it is */
            xmlw_elem(w, tag, v, len);
            return;
        }
    }
    char stackbuf[3 * 256] = {0}; /* zeroed only to quiet a false maybe-uninitialized */
    char *buf = len <= 256 ? stackbuf : malloc(3 * len);
    if (buf == NULL)
        abort();
    size_t n;
    if (url_encode) {
        n = url_encode_value(v, len, buf);
    } else { /* keep the valid prefix already scanned, then replace each bad byte with U+FFFD (3 bytes) */
        memcpy(buf, v, i);
        n = i;
        while (i < len) {
            if ((step = xml_utf8_len(s + i, len - i)) != 0) {
                memcpy(buf + n, v + i, step);
                n += step, i += step;
            } else {
                memcpy(buf + n, "\xEF\xBF\xBD", 3);
                n += 3, i++;
            }
        }
    }
    xmlw_elem(w, tag, buf, n);
    if (buf != stackbuf)
        free(buf);
}

int s3_parse_encoding_type(s3_req_t *r, int *url_encode)
{
    size_t len;
    const char *v = route_param(&r->route, "encoding-type", &len);
    *url_encode = v != NULL;
    return v == NULL || strcmp(v, "url") == 0 ? 0 : -1;
}

int s3_parse_list_limit(const char *v, size_t len, size_t *out)
{
    uint64_t n;
    if (s3_parse_uint(v, len, INT32_MAX, &n) != 0) /* AWS: "not an integer or within integer range" */
        return -1;
    *out = n > S3_LIST_MAX ? S3_LIST_MAX : (size_t)n;
    return 0;
}

/* ------------------------------------------------------------------ the walk */

/* The owner of object e: the one its stored ACL names, else the bucket owner. */
static const authz_owner_t *entry_owner(list_walk_t *lw, const store_list_entry_t *e)
{
    s3_req_t *r = lw->job->r;
    const char *acl = NULL;
    size_t acl_len = 0;
    if (lw->records == NULL)
        lw->records = store_cursor_new(r->thread->server->store, r->route.bucket, STORE_CURSOR_OBJECTS);
    if (store_cursor_find_object(lw->records, e->key, e->key_len) == 0)
        acl = store_cursor_header(lw->records, H2O_STRLIT(AUTHZ_ACL_HEADER), &acl_len);
    return authz_owner_of_acl(r, &lw->owners, acl, acl_len);
}

static int on_entry(void *ctx, const store_list_entry_t *e)
{
    list_walk_t *lw = ctx;
    const list_state_t *st = lw->st;
    int enc = st->url_encode;
    if (e->is_prefix) {
        xmlw_t *w = &lw->prefixes;
        xmlw_open(w, "CommonPrefixes");
        s3_xml_key(w, "Prefix", e->key, e->key_len, enc);
        xmlw_close(w, "CommonPrefixes");
    } else {
        xmlw_t *w = &lw->entries;
        const char *tag = st->kind == LIST_VERSIONS ? "Version" : "Contents";
        xmlw_open(w, tag);
        s3_xml_key(w, "Key", e->key, e->key_len, enc);
        if (st->kind == LIST_VERSIONS) {
            xmlw_elem_str(w, "VersionId", "null");
            xmlw_elem_str(w, "IsLatest", "true");
        }
        xmlw_elem_time(w, "LastModified", e->mtime_ns);
        xmlw_elem_etag_parts(w, "ETag", e->md5, e->num_parts);
        xmlw_elem_u64(w, "Size", e->size);
        if (st->kind != LIST_V2 || st->fetch_owner) {
            const authz_owner_t *owner = entry_owner(lw, e);
            s3_xml_owner_id(w, "Owner", owner->id, owner->name);
        }
        xmlw_elem_str(w, "StorageClass", "STANDARD");
        xmlw_close(w, tag);
    }
    memcpy(lw->last, e->key, e->key_len);
    lw->last_len = e->key_len;
    lw->last_is_prefix = e->is_prefix;
    ++lw->count;
    return 0;
}

static void write_v2_head(xmlw_t *w, const list_state_t *st, const list_walk_t *lw, int truncated)
{
    xmlw_elem_u64(w, "KeyCount", lw->count);
    if (st->token != NULL)
        xmlw_elem(w, "ContinuationToken", st->token, st->token_len);
    if (truncated) {
        char tok[4 * (STORE_KEY_MAX + 2) / 3 + 4];
        size_t n = h2o_base64_encode(tok, lw->last, lw->last_len, 1);
        xmlw_elem(w, "NextContinuationToken", tok, n);
    }
    if (st->marker != NULL)
        s3_xml_key(w, "StartAfter", st->marker, st->marker_len, st->url_encode);
}

static void run_list(s3_job_t *j)
{
    list_state_t *st = (list_state_t *)j->extra;
    const store_list_params_t *p = &st->params;
    s3_req_t *r = j->r;
    int enc = st->url_encode;
    list_walk_t *lw = calloc(1, sizeof(*lw));
    if (lw == NULL)
        abort();
    lw->job = j;
    lw->st = st;
    int truncated = 0;
    int rc = store_object_list(r->thread->server->store, p, on_entry, lw, &truncated);
    if (rc != 0) {
        j->err = s3err_from_store(rc);
        goto Exit;
    }
    if (st->max_keys == 0)
        truncated = 0; /* as S3 answers max-keys=0: nothing listed, and nothing to continue from */

    xmlw_t *w = &j->xml;
    xmlw_init(w);
    const char *root = st->kind == LIST_VERSIONS ? "ListVersionsResult" : "ListBucketResult";
    xmlw_open(w, st->kind == LIST_VERSIONS ? "ListVersionsResult " S3_XMLNS : "ListBucketResult " S3_XMLNS);
    xmlw_elem(w, "Name", r->route.bucket, r->route.bucket_len);
    s3_xml_key(w, "Prefix", p->prefix != NULL ? p->prefix : "", p->prefix_len, enc);
    switch (st->kind) {
    case LIST_V1:
        s3_xml_key(w, "Marker", st->marker != NULL ? st->marker : "", st->marker_len, enc);
        if (truncated && p->delimiter != NULL) /* without a delimiter the last Key is the next marker */
            s3_xml_key(w, "NextMarker", lw->last, lw->last_len, enc);
        break;
    case LIST_V2:
        write_v2_head(w, st, lw, truncated);
        break;
    case LIST_VERSIONS:
        s3_xml_key(w, "KeyMarker", st->marker != NULL ? st->marker : "", st->marker_len, enc);
        xmlw_elem(w, "VersionIdMarker", st->version_marker != NULL ? st->version_marker : "", st->version_marker_len);
        if (truncated) {
            s3_xml_key(w, "NextKeyMarker", lw->last, lw->last_len, enc);
            if (!lw->last_is_prefix)
                xmlw_elem_str(w, "NextVersionIdMarker", "null");
        }
        break;
    }
    xmlw_elem_u64(w, "MaxKeys", st->max_keys);
    if (p->delimiter != NULL)
        s3_xml_key(w, "Delimiter", p->delimiter, p->delimiter_len, enc);
    if (enc)
        xmlw_elem_str(w, "EncodingType", "url");
    xmlw_elem_str(w, "IsTruncated", truncated ? "true" : "false");
    if (lw->entries.len != 0)
        xmlw_raw(w, lw->entries.buf, lw->entries.len);
    if (lw->prefixes.len != 0)
        xmlw_raw(w, lw->prefixes.buf, lw->prefixes.len);
    xmlw_close(w, root);
    j->has_xml = 1;
Exit:
    store_cursor_free(lw->records);
    xmlw_free(&lw->entries);
    xmlw_free(&lw->prefixes);
    free(lw);
}

/* A query parameter, or NULL when absent or empty (S3 treats an empty marker, prefix or delimiter as none). */
static const char *nonempty_param(s3_req_t *r, const char *name, size_t *len)
{
    const char *v = route_param(&r->route, name, len);
    if (v != NULL && *len == 0)
        return NULL;
    if (v == NULL)
        *len = 0;
    return v;
}

/* Reads the parameters the three listings share into a new job; NULL when refused (the answer is sent). */
static s3_job_t *list_job(s3_req_t *r, list_kind_t kind)
{
    s3_job_t *j = s3_job_new(r, run_list, sizeof(list_state_t));
    list_state_t *st = (list_state_t *)j->extra;
    size_t len;
    const char *v;
    st->kind = kind;
    st->max_keys = S3_LIST_MAX;
    if ((v = route_param(&r->route, "max-keys", &len)) != NULL && s3_parse_list_limit(v, len, &st->max_keys) != 0) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, "Provided max-keys not an integer or within integer range");
        return NULL;
    }
    if (s3_parse_encoding_type(r, &st->url_encode) != 0) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
        return NULL;
    }
    store_list_params_t *p = &st->params;
    p->bucket = r->route.bucket;
    p->prefix = route_param(&r->route, "prefix", &p->prefix_len);
    p->delimiter = nonempty_param(r, "delimiter", &p->delimiter_len);
    p->max_keys = st->max_keys;
    st->marker = nonempty_param(r, kind == LIST_V1 ? "marker" : kind == LIST_V2 ? "start-after" : "key-marker", &st->marker_len);
    p->start_after = st->marker;
    p->start_after_len = st->marker_len;
    return j;
}

void ops_list_objects(s3_req_t *r, int v2)
{
    s3_job_t *j = list_job(r, v2 ? LIST_V2 : LIST_V1);
    if (j == NULL)
        return;
    list_state_t *st = (list_state_t *)j->extra;
    size_t len;
    const char *v;
    if (v2 && (v = route_param(&r->route, "fetch-owner", &len)) != NULL)
        st->fetch_owner = strcmp(v, "true") == 0;
    if (v2 && (st->token = route_param(&r->route, "continuation-token", &st->token_len)) != NULL && st->token_len != 0) {
        /* the token, not start-after, says where this page starts (it is past start-after anyway) */
        h2o_iovec_t dec = h2o_decode_base64url(&r->req->pool, st->token, st->token_len);
        if (dec.base == NULL || dec.len == 0 || dec.len > STORE_KEY_MAX) {
            s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, "The continuation token provided is incorrect");
            return;
        }
        st->params.start_after = dec.base; /* pool memory: alive until the answer is sent */
        st->params.start_after_len = dec.len;
    }
    s3_job_start(j);
}

void ops_list_object_versions(s3_req_t *r)
{
    s3_job_t *j = list_job(r, LIST_VERSIONS);
    if (j == NULL)
        return;
    list_state_t *st = (list_state_t *)j->extra;
    st->version_marker = nonempty_param(r, "version-id-marker", &st->version_marker_len);
    if (st->version_marker != NULL && st->marker == NULL) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, "A version-id marker cannot be specified without a key marker.");
        return;
    }
    if (st->version_marker != NULL && !h2o_memis(st->version_marker, st->version_marker_len, H2O_STRLIT("null"))) {
        s3_job_refuse(j, S3ERR_INVALID_ARGUMENT, "Invalid version id specified");
        return;
    }
    s3_job_start(j);
}
