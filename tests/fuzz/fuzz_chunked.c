/* tests/fuzz/fuzz_chunked.c -- the aws-chunked decoder over hostile bodies cut at chosen places.
 *
 * DESIGN: the input is a fixed 38-byte head, then the cuts, then the body:
 *   [0]      flags: bits 0-1 the mode (0 signed, 1 unsigned with trailer, 2 signed with trailer, 3 as 2),
 *            bit 2 has_max_decoded_len, bit 3 min_chunk_size, bit 4 the seed signature sent in upper
 *            case (which chunked_init must refuse for the signed modes)
 *   [1]      the number of cuts (low 4 bits)
 *   [2..3]   max_decoded_len (u16 LE), [4..5] min_chunk_size (u16 LE)
 *   [6..37]  the seed signature (the Authorization header's, as 32 raw bytes)
 *   then one u16 LE length per cut: the body is fed as those pieces and what is left, each piece in
 *   its own exactly sized heap block, and fed on after the decoder is done or failed (the contract
 *   says more bytes are then an error, and errors stick).
 * The signing key, date and scope are those of AWS's streaming examples (secret wJalr...EXAMPLEKEY,
 * 20130524, us-east-1), so seeds made from tests/unit/chunked_vectors.h carry valid chunk and
 * trailer signatures and the fuzzer starts from bodies that decode. Oracles beyond the sanitizers:
 * every data slice lies inside the piece just fed; the decoded length is the sum of the slices; the
 * trailers are NUL-terminated and findable by name; and chunked_decode_all over the whole body in one
 * buffer must end with the same status and the same bytes, however the pieces were cut. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "auth/chunked.h"
#include "auth/sigv4.h"
#include "tests/fuzz/fuzz_input.h"

#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AMZ_DATE "20130524T000000Z"
#define SCOPE "20130524/us-east-1/s3/aws4_request"

#define FLAG_MODE_MASK 3
#define FLAG_MAX_DECODED 4
#define FLAG_MIN_CHUNK 8
#define FLAG_UPPER_SEED 16
#define HEAD_LEN 38
#define MAX_CUTS 15

static uint8_t signing_key[SIGV4_KEY_LEN];

/* What the decoder handed back so far, and the piece it may point into. */
typedef struct collected {
    const uint8_t *piece; /* borrowed: the buffer given to the current chunked_feed */
    size_t piece_len;
    uint8_t *data; /* owned: the decoded bytes, in order */
    size_t len;
    size_t cap;
} collected_t;

static void on_data(void *ctx, const uint8_t *data, size_t len)
{
    collected_t *c = ctx;
    if (!fuzz_within(data, len, c->piece, c->piece_len))
        abort(); /* chunked.h: each slice is a slice of the buffer given to chunked_feed */
    if (c->len + len > c->cap) {
        c->cap = 2 * (c->len + len);
        if ((c->data = realloc(c->data, c->cap)) == NULL)
            abort();
    }
    if (len != 0)
        memcpy(c->data + c->len, data, len);
    c->len += len;
}

static void check_trailers(const chunked_decoder_t *d)
{
    size_t n = chunked_num_trailers(d);
    if (n > CHUNKED_MAX_TRAILERS)
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        size_t name_len, value_len;
        chunked_trailer(d, i, &name, &name_len, &value, &value_len);
        if (strlen(name) != name_len || strlen(value) > value_len || chunked_find_trailer(d, name) == NULL)
            abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    sigv4_signing_key(SECRET_KEY, strlen(SECRET_KEY), "20130524", "us-east-1", "s3", signing_key);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const chunked_mode_t modes[] = {CHUNKED_SIGNED, CHUNKED_UNSIGNED_TRAILER, CHUNKED_SIGNED_TRAILER,
                                           CHUNKED_SIGNED_TRAILER};
    fuzz_input_t in = {data, size};
    size_t seed_len, cut_len[MAX_CUTS], body_len;
    char seed[65];

    if (size < HEAD_LEN)
        return 0;
    uint8_t flags = fuzz_byte(&in);
    size_t num_cuts = fuzz_byte(&in) & MAX_CUTS;
    uint16_t max_decoded = fuzz_u16(&in), min_chunk = fuzz_u16(&in);
    const uint8_t *seed_raw = fuzz_bytes(&in, 32, &seed_len);
    for (size_t i = 0; i < 32; i++)
        snprintf(seed + 2 * i, 3, (flags & FLAG_UPPER_SEED) ? "%02X" : "%02x", seed_raw[i]);
    for (size_t i = 0; i < num_cuts; i++)
        cut_len[i] = fuzz_u16(&in);
    const uint8_t *body = (const uint8_t *)fuzz_rest(&in, &body_len);

    chunked_config_t cfg = {
        .mode = modes[flags & FLAG_MODE_MASK],
        .signing_key = signing_key,
        .amz_date = AMZ_DATE,
        .scope = SCOPE,
        .seed_signature = seed,
        .has_max_decoded_len = (flags & FLAG_MAX_DECODED) != 0,
        .max_decoded_len = max_decoded,
        .min_chunk_size = (flags & FLAG_MIN_CHUNK) ? min_chunk : 0,
    };

    /* The body in pieces. */
    chunked_decoder_t *d = malloc(sizeof(*d));
    collected_t c = {0};
    if (d == NULL)
        abort();
    int init_failed = chunked_init(d, &cfg) != 0;
    size_t pos = 0;
    for (size_t i = 0; i <= num_cuts; i++) {
        size_t n = i < num_cuts ? cut_len[i] : body_len - pos;
        if (n > body_len - pos)
            n = body_len - pos;
        uint8_t *piece = (uint8_t *)fuzz_dup(body + pos, n);
        c.piece = piece;
        c.piece_len = n;
        chunked_status_t st = chunked_feed(d, piece, n, on_data, &c);
        if (init_failed && st != CHUNKED_E_FORMAT)
            abort();
        free(piece);
        pos += n;
    }
    chunked_status_t status = chunked_finish(d);
    if ((status == CHUNKED_DONE) != (chunked_error_reason(d) == NULL))
        abort();
    if (chunked_decoded_length(d) != c.len)
        abort();
    if (status == CHUNKED_DONE)
        check_trailers(d);
    chunked_dispose(d);

    /* The same body in one buffer. */
    uint8_t *whole = (uint8_t *)fuzz_dup(body, body_len);
    size_t cap = chunked_max_slices(body_len), num_iov = 0;
    struct iovec *iov = malloc(cap * sizeof(*iov));
    if (iov == NULL)
        abort();
    chunked_status_t all = CHUNKED_E_FORMAT;
    if (chunked_init(d, &cfg) == 0)
        all = chunked_decode_all(d, whole, body_len, iov, cap, &num_iov);
    if (all != status)
        abort();
    if (status == CHUNKED_DONE) {
        size_t off = 0;
        for (size_t i = 0; i < num_iov; i++) {
            if (!fuzz_within(iov[i].iov_base, iov[i].iov_len, whole, body_len) || iov[i].iov_len > c.len - off ||
                memcmp(iov[i].iov_base, c.data + off, iov[i].iov_len) != 0)
                abort();
            off += iov[i].iov_len;
        }
        if (off != c.len)
            abort();
    }
    chunked_dispose(d);

    free(iov);
    free(whole);
    free(c.data);
    free(d);
    return 0;
}
