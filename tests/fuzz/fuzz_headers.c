/* tests/fuzz/fuzz_headers.c -- the parsers of single request header values.
 *
 * DESIGN: the first byte chooses the header (low 3 bits; '0'..'7' in the seeds), the rest is its
 * value as sent:
 *   0  Range                      range_parse, against an object size given on the first line
 *   1  x-amz-tagging              tagging_parse_query (bit 3 of the first byte: a bucket's limits)
 *   2  If-Match / If-None-Match   s3_parse_etag
 *   3  Content-MD5                s3_decode_content_md5
 *   4  x-amz-checksum-<alg>       cksum_from_base64, the algorithm named by the first line (a header
 *                                 name as cksum_alg_from_header reads it, or an algorithm name)
 *   5  numbers                    s3_parse_uint, s3_parse_list_limit, s3_parse_part_number
 *                                 (partNumber, max-keys, X-Amz-Expires, x-amz-decoded-content-length)
 *   6  x-amz-object-attributes    s3_parse_object_attributes
 *   7  x-amz-checksum-type        cksum_type_from_name, with the algorithm of the first line
 * Seeds are values as clients send them (the Range forms of RFC 9110 and S3's docs, tag headers,
 * quoted and multipart ETags, base64 digests of each algorithm). Beyond the sanitizers, each result is checked
 * against its contract and, where the parser accepts only one spelling, by a round trip: an accepted
 * range lies inside the object; an accepted tag set, ETag, Content-MD5 or checksum written back out
 * by the server's own writer reads back the same (checksums and Content-MD5 byte for byte, as only
 * canonical base64 is accepted). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/checksum.h"
#include "server/handler.h"
#include "server/range.h"
#include "server/tagging.h"
#include "server/xml.h"
#include "tests/fuzz/fuzz_input.h"

#define FLAG_BUCKET_TAGS 8

static void fuzz_range(fuzz_input_t *in)
{
    size_t size_len, len;
    const char *size_text = fuzz_line(in, &size_len);
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len), *size_value = fuzz_dup(size_text, size_len);
    uint64_t size = 0, first, last;
    s3_parse_uint(size_value, size_len, UINT64_MAX, &size);
    if (range_parse(value, len, size, &first, &last) == RANGE_OK && (first > last || last >= size))
        abort();
    free(size_value);
    free(value);
}

static void fuzz_tagging(fuzz_input_t *in, tagging_kind_t kind)
{
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    tagging_set_t set, again;
    const char *message;
    if (tagging_parse_query(value, len, kind, &set, &message) == S3ERR_NONE) {
        char *enc = malloc(tagging_encoded_size(&set));
        if (enc == NULL)
            abort();
        size_t enc_len = tagging_encode(&set, enc);
        if (tagging_parse_query(enc, enc_len, kind, &again, &message) != S3ERR_NONE || again.num_tags != set.num_tags)
            abort();
        for (size_t i = 0; i < set.num_tags; i++) {
            const tagging_tag_t *x = &set.tags[i], *y = &again.tags[i];
            if (x->key_len != y->key_len || x->value_len != y->value_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                memcmp(x->value, y->value, x->value_len) != 0)
                abort();
        }
        tagging_set_free(&again);
        free(enc);
        tagging_set_free(&set);
    } else if (message == NULL) {
        abort();
    }
    free(value);
}

static void fuzz_etag(fuzz_input_t *in)
{
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    uint8_t md5[16], md5_again[16];
    uint32_t num_parts, parts_again;
    if (s3_parse_etag(value, len, md5, &num_parts) == 0) {
        char etag[S3_ETAG_MAX];
        size_t n = s3_format_etag(md5, num_parts, etag);
        if (n >= S3_ETAG_MAX || s3_parse_etag(etag, n, md5_again, &parts_again) != 0 || memcmp(md5, md5_again, 16) != 0 ||
            parts_again != num_parts)
            abort();
    }
    free(value);
}

static void fuzz_content_md5(fuzz_input_t *in)
{
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    uint8_t md5[16];
    char b64[CKSUM_BASE64_SIZE];
    if (s3_decode_content_md5(value, len, md5) == 0) {
        size_t n = cksum_to_base64(md5, 16, b64);
        if (n != len || memcmp(b64, value, n) != 0)
            abort();
    }
    free(value);
}

static cksum_alg_t alg_of_line(fuzz_input_t *in)
{
    size_t len;
    const char *line = fuzz_line(in, &len);
    char *name = fuzz_dup(line, len);
    cksum_alg_t alg = cksum_alg_from_header(name, len);
    if (alg == CKSUM_NONE)
        alg = cksum_alg_from_name(name, len);
    if (alg < CKSUM_NONE || alg >= CKSUM_COUNT)
        abort();
    free(name);
    return alg;
}

static void fuzz_checksum(fuzz_input_t *in)
{
    cksum_alg_t alg = alg_of_line(in);
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    uint8_t digest[CKSUM_MAX_DIGEST_LEN];
    char b64[CKSUM_BASE64_SIZE];
    if (alg == CKSUM_NONE)
        alg = CKSUM_CRC32;
    int n = cksum_from_base64(alg, value, len, digest);
    if (n >= 0) {
        if ((size_t)n != cksum_digest_len(alg))
            abort();
        size_t b = cksum_to_base64(digest, (size_t)n, b64);
        if (b != len || memcmp(b64, value, b) != 0)
            abort();
    }
    free(value);
}

static void fuzz_numbers(fuzz_input_t *in)
{
    size_t len, limit;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    uint64_t n;
    uint32_t part;
    int fits = len != 0 && len <= 19; /* up to 19 digits always fit in 64 bits */
    for (size_t i = 0; i < len; i++)
        fits &= value[i] >= '0' && value[i] <= '9';
    if (fits && s3_parse_uint(value, len, UINT64_MAX, &n) != 0)
        abort();
    if (s3_parse_uint(value, len, 604800, &n) == 0 && n > 604800)
        abort();
    if (s3_parse_list_limit(value, len, &limit) == 0 && limit > S3_LIST_MAX)
        abort();
    if (s3_parse_part_number(value, len, &part) == 0 && (part < 1 || part > 10000))
        abort();
    free(value);
}

static void fuzz_object_attributes(fuzz_input_t *in)
{
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    unsigned mask = 0;
    s3_parse_object_attributes(value, len, &mask);
    free(value);
}

static void fuzz_checksum_type(fuzz_input_t *in)
{
    cksum_alg_t alg = alg_of_line(in);
    size_t len;
    const char *v = fuzz_rest(in, &len);
    char *value = fuzz_dup(v, len);
    cksum_type_t type = cksum_type_from_name(value, len);
    if (type != CKSUM_TYPE_NONE && cksum_type_name(type) == NULL)
        abort();
    if (alg != CKSUM_NONE)
        cksum_type_allowed(alg, type);
    free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    uint8_t sel = fuzz_byte(&in);

    switch (sel & 7) {
    case 0:
        fuzz_range(&in);
        break;
    case 1:
        fuzz_tagging(&in, (sel & FLAG_BUCKET_TAGS) ? TAGGING_BUCKET : TAGGING_OBJECT);
        break;
    case 2:
        fuzz_etag(&in);
        break;
    case 3:
        fuzz_content_md5(&in);
        break;
    case 4:
        fuzz_checksum(&in);
        break;
    case 5:
        fuzz_numbers(&in);
        break;
    case 6:
        fuzz_object_attributes(&in);
        break;
    default:
        fuzz_checksum_type(&in);
        break;
    }
    return 0;
}
