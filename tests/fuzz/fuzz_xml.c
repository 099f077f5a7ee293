/* tests/fuzz/fuzz_xml.c -- every XML request body parser over hostile documents.
 *
 * DESIGN: the first byte chooses the parser (low 3 bits; '0'..'7' in the seeds), the rest is the
 * body as the client sent it:
 *   0  CreateBucketConfiguration      xml_parse_create_bucket
 *   1  CompleteMultipartUpload        xml_parse_complete_multipart
 *   2  Delete (DeleteObjects)         xml_parse_delete
 *   3  Tagging of an object           tagging_parse_xml (TAGGING_OBJECT)
 *   4  Tagging of a bucket            tagging_parse_xml (TAGGING_BUCKET)
 *   5  OwnershipControls              PutBucketOwnershipControls' parser
 *   6  PublicAccessBlockConfiguration PutPublicAccessBlock's parser
 *   7  any document                   xml_read_doc and the element helpers over every element
 * Bit 3 of the first byte gives CompleteMultipartUpload and Delete a limit of 3 parts or objects
 * instead of the server's (10000, 1000), so the limit itself is reached. The two bucket
 * configuration parsers are static in server/ops_bucket_config.c, so that file is compiled into
 * this target: its other functions come along unused, and the library's copy is not linked.
 * Seeds are the bodies AWS documents for each operation (with and without the S3 namespace, with a
 * declaration, prefixed) and tests/unit/test_xml.c's hostile ones (DTDs, entities, CDATA, comments).
 * Beyond the sanitizers, every output is checked against its contract (NUL-terminated, in range),
 * and a tag set that parses must survive the round trips the server puts it through: written as XML
 * by tagging_write_xml and parsed again, and stored in its canonical query form and read back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/ops_bucket_config.c"
#include "server/tagging.h"
#include "server/xml.h"
#include "tests/fuzz/fuzz_input.h"

#define FLAG_SMALL_LIMITS 8
#define SMALL_LIMIT 3
#define SERVER_MAX_PARTS 10000  /* ops_multipart.c: STORE_MAX_PARTS */
#define SERVER_MAX_OBJECTS 1000 /* ops_delete.c: DELETE_MAX_OBJECTS */

static void fuzz_create_bucket(const char *body, size_t len)
{
    char *region = malloc(64); /* ops_bucket.c's buffer */
    if (region == NULL)
        abort();
    if (xml_parse_create_bucket(body, len, region, 64) == 0 && strnlen(region, 64) == 64)
        abort();
    free(region);
}

static void fuzz_complete_multipart(const char *body, size_t len, size_t max_parts)
{
    /* the server's 10000 parts stay allocated (1.3 MB per run would slow the fuzzer down); a small limit
     * gets a heap block of exactly its size; AddressSanitizer guards the end of either */
    static xml_complete_part_t server_parts[SERVER_MAX_PARTS];
    xml_complete_part_t *parts = max_parts == SERVER_MAX_PARTS ? server_parts : malloc(max_parts * sizeof(*parts));
    if (parts == NULL)
        abort();
    int n = xml_parse_complete_multipart(body, len, parts, max_parts);
    if (n == 0 || n < -1 || n > (int)max_parts)
        abort();
    for (int i = 0; i < n; i++) {
        if (parts[i].part_number < 1 || parts[i].part_number > 10000 || strnlen(parts[i].etag, sizeof(parts[i].etag)) > 70 ||
            strnlen(parts[i].checksum, sizeof(parts[i].checksum)) == sizeof(parts[i].checksum))
            abort();
    }
    if (parts != server_parts)
        free(parts);
}

static void fuzz_delete(const char *body, size_t len, size_t max_objects)
{
    xml_delete_t del;
    if (xml_parse_delete(body, len, max_objects, &del) != 0)
        return;
    if (del.num_objects == 0 || del.num_objects > max_objects)
        abort();
    for (size_t i = 0; i < del.num_objects; i++) {
        const xml_delete_object_t *o = &del.objects[i];
        if (o->key[o->key_len] != '\0' ||
            (o->version_id != NULL && (o->version_id[o->version_id_len] != '\0' || o->version_id_len > XML_DELETE_VERSION_ID_MAX)))
            abort();
    }
    xml_delete_free(&del);
}

static int same_tags(const tagging_set_t *a, const tagging_set_t *b)
{
    if (a->num_tags != b->num_tags)
        return 0;
    for (size_t i = 0; i < a->num_tags; i++) {
        const tagging_tag_t *x = &a->tags[i], *y = &b->tags[i];
        if (x->key_len != y->key_len || x->value_len != y->value_len || memcmp(x->key, y->key, x->key_len) != 0 ||
            memcmp(x->value, y->value, x->value_len) != 0)
            return 0;
    }
    return 1;
}

static void fuzz_tagging(const char *body, size_t len, tagging_kind_t kind)
{
    tagging_set_t set, again;
    const char *message;
    s3err_t err = tagging_parse_xml(body, len, kind, &set, &message);
    if (err != S3ERR_NONE) {
        if (message == NULL && err != S3ERR_MALFORMED_XML)
            abort(); /* only MalformedXML goes out with the error's own text (a NULL message) */
        return;
    }
    for (size_t i = 0; i < set.num_tags; i++) {
        if (set.tags[i].key[set.tags[i].key_len] != '\0' || set.tags[i].value[set.tags[i].value_len] != '\0')
            abort();
    }

    /* GetObjectTagging writes what PutObjectTagging stored: a client must read back the same set */
    xmlw_t w;
    xmlw_init(&w);
    tagging_write_xml(&w, &set);
    if (tagging_parse_xml(w.buf, w.len, kind, &again, &message) != S3ERR_NONE || !same_tags(&set, &again))
        abort();
    tagging_set_free(&again);
    xmlw_free(&w);

    /* the stored form */
    char *enc = malloc(tagging_encoded_size(&set));
    if (enc == NULL)
        abort();
    size_t enc_len = tagging_encode(&set, enc);
    if (enc[enc_len] != '\0' || enc_len >= tagging_encoded_size(&set) || tagging_count(enc, enc_len) != set.num_tags)
        abort();
    if (tagging_decode(enc, enc_len, &again) != 0 || !same_tags(&set, &again))
        abort();
    tagging_set_free(&again);
    free(enc);
    tagging_set_free(&set);
}

static void fuzz_bucket_config(const char *body, size_t len, int (*parse)(const char *, size_t, config_state_t *))
{
    config_state_t st = {0};
    if (parse(body, len, &st) == 0 && (st.value == NULL || st.value_len == 0 || st.value_len > CONFIG_TEXT_MAX))
        abort();
}

/* Every element of the tree through the helpers the parsers use. */
static void walk(xmlNodePtr n, char *text)
{
    for (; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xml_is_element(n, "Key");
        if (xml_text_only(n)) {
            int t = xml_trimmed_text(n, text, 63);
            if (t > 63 || (t >= 0 && (size_t)t != strlen(text)))
                abort();
        }
        walk(n->children, text);
    }
}

static void fuzz_document(const char *body, size_t len)
{
    char *text = malloc(64);
    if (text == NULL)
        abort();
    for (int keep_blanks = 0; keep_blanks <= 1; keep_blanks++) {
        xmlDocPtr doc = xml_read_doc(body, len, 1024 * 1024, keep_blanks);
        if (doc == NULL)
            continue;
        walk(xmlDocGetRootElement(doc), text);
        xmlFreeDoc(doc);
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in = {data, size};
    uint8_t sel = fuzz_byte(&in);
    size_t len;
    const char *rest = fuzz_rest(&in, &len);
    char *body = fuzz_dup(rest, len);
    int small = (sel & FLAG_SMALL_LIMITS) != 0;

    switch (sel & 7) {
    case 0:
        fuzz_create_bucket(body, len);
        break;
    case 1:
        fuzz_complete_multipart(body, len, small ? SMALL_LIMIT : SERVER_MAX_PARTS);
        break;
    case 2:
        fuzz_delete(body, len, small ? SMALL_LIMIT : SERVER_MAX_OBJECTS);
        break;
    case 3:
        fuzz_tagging(body, len, TAGGING_OBJECT);
        break;
    case 4:
        fuzz_tagging(body, len, TAGGING_BUCKET);
        break;
    case 5:
        fuzz_bucket_config(body, len, parse_ownership);
        break;
    case 6:
        fuzz_bucket_config(body, len, parse_public_access_block);
        break;
    default:
        fuzz_document(body, len);
        break;
    }
    free(body);
    return 0;
}
