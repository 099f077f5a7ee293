/* server/ops_attributes.c -- GetObjectAttributes.
 *
 * DESIGN: HeadObject and ListParts in one answer, for the attributes the
 * x-amz-object-attributes header names. Everything comes from the object's
 * record, a point lookup done on the loop as GetObject does: the ETag (without
 * quotes, as this XML writes it), the checksum the object was stored with
 * (its x-amz-checksum-<alg> record header; a COMPOSITE value loses its "-N"
 * suffix here, as S3 shows it), and for a multipart object the sizes of its
 * parts, paged with x-amz-max-parts / x-amz-part-number-marker like ListParts.
 *
 * Unlike S3, which lists Part entries only for objects uploaded with a
 * composite checksum (and then with each part's checksum), Coffer lists every
 * multipart object's parts with PartNumber and Size: it keeps the part sizes
 * but not per-part checksums. A single-part object has no ObjectParts. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/authz.h"
#include "server/handler.h"

static const struct {
    const char *name;
    unsigned bit;
} attribute_names[] = {
    {"ETag", S3_ATTR_ETAG},
    {"Checksum", S3_ATTR_CHECKSUM},
    {"ObjectParts", S3_ATTR_OBJECT_PARTS},
    {"StorageClass", S3_ATTR_STORAGE_CLASS},
    {"ObjectSize", S3_ATTR_OBJECT_SIZE},
};

int s3_parse_object_attributes(const char *v, size_t len, unsigned *mask)
{
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && v[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && (v[a] == ' ' || v[a] == '\t'))
            a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
            b--;
        if (b > a) { /* empty items ("ETag,,ObjectSize") are skipped */
            size_t k = 0, n = sizeof(attribute_names) / sizeof(attribute_names[0]);
            while (k < n && !(strlen(attribute_names[k].name) == b - a && memcmp(attribute_names[k].name, v + a, b - a) == 0))
                k++;
            if (k == n)
                return -1;
            *mask |= attribute_names[k].bit;
        }
        i = j + 1;
    }
    return 0;
}

/* Writes <Checksum> from the object's stored checksum headers, if it has one. */
static void write_checksum(xmlw_t *w, const store_object_t *obj)
{
    const store_kv_t *value = NULL, *type = NULL;
    cksum_alg_t alg = CKSUM_NONE;
    for (size_t i = 0; i < obj->num_headers; i++) {
        const store_kv_t *h = &obj->headers[i];
        if (h2o_memis(h->name, h->name_len, H2O_STRLIT("x-amz-checksum-type")))
            type = h;
        else if (value == NULL && (alg = cksum_alg_from_header(h->name, h->name_len)) != CKSUM_NONE)
            value = h;
    }
    if (value == NULL)
        return;
    size_t len = value->value_len;
    const char *dash = memchr(value->value, '-', len);
    if (dash != NULL) /* a composite "<base64>-<parts>": S3 shows the base64 alone here */
        len = (size_t)(dash - value->value);
    char tag[32];
    snprintf(tag, sizeof(tag), "Checksum%s", cksum_alg_name(alg));
    xmlw_open(w, "Checksum");
    xmlw_elem(w, tag, value->value, len);
    if (type != NULL)
        xmlw_elem(w, "ChecksumType", type->value, type->value_len);
    else
        xmlw_elem_str(w, "ChecksumType", "FULL_OBJECT"); /* a single-part object's checksum covers all of it */
    xmlw_close(w, "Checksum");
}

/* Writes <ObjectParts>: the parts after marker, at most max_parts of them. */
static void write_parts(xmlw_t *w, const store_object_t *obj, uint32_t marker, size_t max_parts)
{
    uint32_t last = marker, n = obj->num_parts;
    size_t listed = 0;
    xmlw_t parts = {0};
    for (uint32_t pn = marker + 1; pn <= n && listed < max_parts; pn++, listed++) {
        xmlw_open(&parts, "Part");
        xmlw_elem_u64(&parts, "PartNumber", pn);
        xmlw_elem_u64(&parts, "Size", obj->part_sizes != NULL ? obj->part_sizes[pn - 1] : 0);
        xmlw_close(&parts, "Part");
        last = pn;
    }
    xmlw_open(w, "ObjectParts");
    xmlw_elem_u64(w, "PartsCount", n);
    xmlw_elem_u64(w, "PartNumberMarker", marker);
    xmlw_elem_u64(w, "NextPartNumberMarker", last);
    xmlw_elem_u64(w, "MaxParts", max_parts);
    xmlw_elem_str(w, "IsTruncated", last < n ? "true" : "false");
    if (parts.len != 0)
        xmlw_raw(w, parts.buf, parts.len);
    xmlw_free(&parts);
    xmlw_close(w, "ObjectParts");
}

/* Collects every x-amz-object-attributes header (a client may split the list). Returns S3ERR_NONE or the error. */
static s3err_t read_attributes(s3_req_t *r, unsigned *mask, const char **message)
{
    const h2o_headers_t *hs = &r->req->headers;
    *mask = 0;
    for (ssize_t i = -1; (i = h2o_find_header_by_str(hs, H2O_STRLIT("x-amz-object-attributes"), i)) >= 0;) {
        if (s3_parse_object_attributes(hs->entries[i].value.base, hs->entries[i].value.len, mask) != 0) {
            *message = "Invalid attribute name specified.";
            return S3ERR_INVALID_ARGUMENT;
        }
    }
    if (*mask == 0) {
        *message = "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty";
        return S3ERR_INVALID_REQUEST;
    }
    return S3ERR_NONE;
}

void ops_get_object_attributes(s3_req_t *r)
{
    store_t *store = r->thread->server->store;
    unsigned mask;
    uint64_t marker = 0;
    size_t max_parts = S3_LIST_MAX, len;
    const char *message = NULL, *v;
    s3err_t err = read_attributes(r, &mask, &message);
    if (err == S3ERR_NONE && (v = s3_header(r, "x-amz-max-parts", &len)) != NULL && s3_parse_list_limit(v, len, &max_parts) != 0)
        err = S3ERR_INVALID_ARGUMENT, message = "Provided max-parts not an integer or within integer range";
    if (err == S3ERR_NONE && (v = s3_header(r, "x-amz-part-number-marker", &len)) != NULL &&
        s3_parse_uint(v, len, INT32_MAX, &marker) != 0)
        err = S3ERR_INVALID_ARGUMENT, message = "Provided part-number-marker not an integer or within integer range";
    if (err == S3ERR_NONE && (v = route_param(&r->route, "versionId", &len)) != NULL && !h2o_memis(v, len, H2O_STRLIT("null")))
        err = S3ERR_INVALID_ARGUMENT, message = "Invalid version id specified"; /* every object is its "null" version */
    if (err != S3ERR_NONE) {
        if (store_bucket_get(store, r->route.bucket, NULL) != 0) /* a missing bucket is reported first */
            err = S3ERR_NO_SUCH_BUCKET, message = NULL;
        s3_send_error(r, err, message);
        return;
    }

    store_object_t obj;
    if (authz_get_object(r, &obj) != 0)
        return;
    s3_add_last_modified(r, obj.mtime_ns);

    xmlw_t w;
    xmlw_init(&w);
    xmlw_open(&w, "GetObjectAttributesResponse " S3_XMLNS);
    if (mask & S3_ATTR_ETAG) {
        char etag[S3_ETAG_MAX];
        size_t n = s3_format_etag(obj.md5, obj.num_parts, etag);
        xmlw_elem(&w, "ETag", etag + 1, n - 2); /* S3 writes this one without quotes */
    }
    if (mask & S3_ATTR_CHECKSUM)
        write_checksum(&w, &obj);
    if ((mask & S3_ATTR_OBJECT_PARTS) && obj.num_parts != 0)
        write_parts(&w, &obj, marker > obj.num_parts ? obj.num_parts : (uint32_t)marker, max_parts);
    if (mask & S3_ATTR_STORAGE_CLASS)
        xmlw_elem_str(&w, "StorageClass", "STANDARD");
    if (mask & S3_ATTR_OBJECT_SIZE)
        xmlw_elem_u64(&w, "ObjectSize", obj.size);
    xmlw_close(&w, "GetObjectAttributesResponse");
    store_object_free(&obj);
    s3_send_xml(r, 200, &w);
}
