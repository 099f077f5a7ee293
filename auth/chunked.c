/* auth/chunked.c -- the aws-chunked body decoder.
 *
 * DESIGN: one byte-level state machine. Chunk header lines and trailer lines are parsed a byte at a
 * time (they are short: ~90 bytes per chunk); chunk data, nearly all of the body, is passed through
 * in runs as long as the input allows, as slices of the input, and hashed on the way for the signed
 * modes. A piece boundary may fall anywhere, so all progress lives in the struct, never in locals.
 *
 * Signatures (AWS "Signature Calculations for the Authorization Header: Transferring Payload in
 * Multiple Chunks" and "... Including Trailing Headers"): chunk i is signed over
 *     "AWS4-HMAC-SHA256-PAYLOAD\n" amz_date "\n" scope "\n" prev_sig "\n" sha256("") "\n" sha256(data_i)
 * where prev_sig starts as the seed (the Authorization header's signature); the final chunk has
 * empty data. The trailer is signed over
 *     "AWS4-HMAC-SHA256-TRAILER\n" amz_date "\n" scope "\n" final_chunk_sig "\n" sha256(canonical trailers)
 * where the canonical trailers are formed like SigV4 canonical headers: lower-case name ':' value
 * (trimmed, inner blank runs folded) '\n', sorted by name, repeated names joined with ','. That is
 * what the AWS SDKs hash (Java v2 SigV4TrailerProvider and .NET ChunkedUploadWrapperStream both call
 * their canonical-headers code; minio-go writes "name:value\n"); with the single checksum trailer that
 * clients send it is exactly the line as sent with '\n' for CRLF. AWS's published trailer example
 * (x-amz-checksum-crc32c:sOO8/Q==) verifies in tests/unit/test_chunked.c.
 *
 * SHA-256 goes through EVP as everywhere else; an EVP_MD_CTX is opaque, so a signed-mode decoder
 * owns one from chunked_init to chunked_dispose (reset, not reallocated, per chunk). HMACs use
 * sigv4_sign.
 */
#include "auth/chunked.h"
#include "auth/sigv4.h"
#include "auth/text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define EMPTY_SHA256_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CHUNK_SIG_KEY "chunk-signature="
#define TRAILER_SIG_NAME "x-amz-trailer-signature"

enum {
    ST_SIZE,       /* hex digits of the chunk size */
    ST_SIG_KEY,    /* "chunk-signature=" after ';' (signed modes) */
    ST_SIG,        /* 64 hex digits, then CR */
    ST_EXT,        /* chunk extensions up to CR (unsigned mode): skipped */
    ST_HEADER_LF,  /* LF ending the chunk header line */
    ST_DATA,       /* chunk_left bytes of data */
    ST_DATA_CR,    /* CR, then */
    ST_DATA_LF,    /* LF after the data */
    ST_END_CR,     /* CR, then */
    ST_END_LF,     /* LF after the final chunk header (signed mode without trailer) */
    ST_TRAILER,    /* a trailer line up to CR */
    ST_TRAILER_LF, /* LF ending a trailer line */
    ST_DONE,
};

static const char hex_lower[] = "0123456789abcdef";

static int is_signed(const chunked_decoder_t *d)
{
    return d->mode != CHUNKED_UNSIGNED_TRAILER;
}

/* RFC 9110 tchar: what a header field name is made of. */
static int is_token_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c != 0 && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static chunked_status_t fail(chunked_decoder_t *d, chunked_status_t status, const char *reason)
{
    d->status = status;
    d->reason = reason;
    return status;
}

/* ---- OpenSSL: SHA-256 fetched once per process ---- */

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md; /* owned for the process lifetime */

static void md_init(void)
{
    /* An explicit fetch: the implicit one behind EVP_sha256() runs on every DigestInit in OpenSSL 3. */
    if ((sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
        abort();
}

static void digest_begin(chunked_decoder_t *d)
{
    if (!EVP_DigestInit_ex2(d->md, sha256_md, NULL))
        abort();
}

static void digest_update(chunked_decoder_t *d, const void *p, size_t len)
{
    if (!EVP_DigestUpdate(d->md, p, len))
        abort();
}

static void digest_end_hex(chunked_decoder_t *d, char out[64])
{
    uint8_t digest[32];

    if (!EVP_DigestFinal_ex(d->md, digest, NULL))
        abort();
    text_hex(digest, sizeof(digest), out);
}

/* Signs "<algorithm>\n<date>\n<scope>\n<prev_sig>\n<tail>" and compares it, in constant time, with sig. */
static int signature_matches(const chunked_decoder_t *d, const char *algorithm, const char *tail, size_t tail_len,
                             const char sig[64])
{
    char sts[32 + sizeof(d->amz_date) + sizeof(d->scope) + 64 + 2 * 65];
    char expected[65];
    int n =
        snprintf(sts, sizeof(sts), "%s\n%s\n%s\n%.64s\n%.*s", algorithm, d->amz_date, d->scope, d->prev_sig, (int)tail_len, tail);

    if (n < 0 || (size_t)n >= sizeof(sts))
        abort(); /* chunked_init bounded every part */
    sigv4_sign(d->signing_key, sts, (size_t)n, expected);
    return CRYPTO_memcmp(expected, sig, 64) == 0;
}

/* Verifies the chunk whose data has all been hashed; on success it becomes the previous signature. */
static chunked_status_t verify_chunk(chunked_decoder_t *d)
{
    char tail[2 * 64 + 1] = EMPTY_SHA256_HEX "\n";

    digest_end_hex(d, tail + 65);
    if (!signature_matches(d, "AWS4-HMAC-SHA256-PAYLOAD", tail, sizeof(tail), d->chunk_sig))
        return fail(d, CHUNKED_E_SIGNATURE, "chunk signature does not match");
    memcpy(d->prev_sig, d->chunk_sig, 64);
    return CHUNKED_OK;
}

/* ---- trailers ---- */

static const char *trailer_name(const chunked_decoder_t *d, size_t i)
{
    return d->trailer_buf + d->trailers[i].name_off;
}

static const char *trailer_value(const chunked_decoder_t *d, size_t i)
{
    return d->trailer_buf + d->trailers[i].value_off;
}

/* Hashes a value as SigV4 canonicalises header values: runs of blanks folded to one space (ends already trimmed). */
static void digest_folded(chunked_decoder_t *d, const char *v, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t run = i;
        while (run < len && !is_blank((uint8_t)v[run]))
            run++;
        digest_update(d, v + i, run - i);
        if (run == len)
            break;
        digest_update(d, " ", 1);
        while (run < len && is_blank((uint8_t)v[run]))
            run++;
        i = run;
    }
}

static chunked_status_t verify_trailer(chunked_decoder_t *d)
{
    uint8_t order[CHUNKED_MAX_TRAILERS];
    char hash[64];

    /* Insertion sort by name, stable so repeated names keep the order they were sent in. */
    for (size_t i = 0; i < d->num_trailers; i++) {
        size_t j = i;
        while (j > 0 && strcmp(trailer_name(d, order[j - 1]), trailer_name(d, i)) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint8_t)i;
    }
    digest_begin(d);
    for (size_t k = 0; k < d->num_trailers; k++) {
        const chunked_trailer_ref_t *t = &d->trailers[order[k]];
        int same_as_previous = k > 0 && strcmp(trailer_name(d, order[k - 1]), trailer_name(d, order[k])) == 0;
        if (same_as_previous) {
            digest_update(d, ",", 1);
        } else {
            if (k > 0)
                digest_update(d, "\n", 1);
            digest_update(d, d->trailer_buf + t->name_off, t->name_len);
            digest_update(d, ":", 1);
        }
        digest_folded(d, d->trailer_buf + t->value_off, t->value_len);
    }
    if (d->num_trailers > 0)
        digest_update(d, "\n", 1);
    digest_end_hex(d, hash);
    if (!signature_matches(d, "AWS4-HMAC-SHA256-TRAILER", hash, sizeof(hash), d->trailer_sig))
        return fail(d, CHUNKED_E_SIGNATURE, "trailer signature does not match");
    return CHUNKED_OK;
}

/* The empty line ending the trailer section. */
static chunked_status_t end_trailer(chunked_decoder_t *d)
{
    if (d->mode == CHUNKED_SIGNED_TRAILER) {
        if (!d->have_trailer_sig)
            return fail(d, CHUNKED_E_FORMAT, "trailer without x-amz-trailer-signature");
        if (verify_trailer(d) != CHUNKED_OK)
            return d->status;
    }
    d->state = ST_DONE;
    d->status = CHUNKED_DONE;
    return CHUNKED_DONE;
}

/*
 * A complete trailer line "name:value" sits in trailer_buf[line_start, trailer_len). It is rewritten
 * in place as "name\0value\0" (name lower-cased, value trimmed); the signature line is taken out.
 */
static chunked_status_t end_trailer_line(chunked_decoder_t *d)
{
    char *line = d->trailer_buf + d->line_start;
    size_t len = d->trailer_len - d->line_start, name_len = 0, v, v_end;
    chunked_trailer_ref_t *t;

    if (len == 0)
        return end_trailer(d);
    if (d->have_trailer_sig)
        return fail(d, CHUNKED_E_FORMAT, "trailer after x-amz-trailer-signature");
    while (name_len < len && is_token_char((uint8_t)line[name_len])) {
        if (line[name_len] >= 'A' && line[name_len] <= 'Z')
            line[name_len] = (char)(line[name_len] - 'A' + 'a');
        name_len++;
    }
    if (name_len == 0 || name_len == len || line[name_len] != ':')
        return fail(d, CHUNKED_E_FORMAT, "malformed trailer line");
    for (v = name_len + 1; v < len && is_blank((uint8_t)line[v]); v++)
        ;
    for (v_end = len; v_end > v && is_blank((uint8_t)line[v_end - 1]); v_end--)
        ;
    if (name_len == sizeof(TRAILER_SIG_NAME) - 1 && memcmp(line, TRAILER_SIG_NAME, name_len) == 0) {
        if (d->mode != CHUNKED_SIGNED_TRAILER)
            return fail(d, CHUNKED_E_FORMAT, "x-amz-trailer-signature in an unsigned body");
        if (v_end - v != 64)
            return fail(d, CHUNKED_E_FORMAT, "malformed x-amz-trailer-signature");
        for (size_t i = 0; i < 64; i++) {
            int h = sigv4_hex_digit((uint8_t)line[v + i]);
            if (h < 0)
                return fail(d, CHUNKED_E_FORMAT, "malformed x-amz-trailer-signature");
            d->trailer_sig[i] = hex_lower[h];
        }
        d->have_trailer_sig = 1;
        d->trailer_len = d->line_start;
        return CHUNKED_OK;
    }
    if (d->num_trailers == CHUNKED_MAX_TRAILERS)
        return fail(d, CHUNKED_E_FORMAT, "too many trailing headers");
    /* The line's CR and LF were counted but not stored, so the two NULs always fit. */
    line[name_len] = '\0';
    t = &d->trailers[d->num_trailers++];
    t->name_off = (uint16_t)d->line_start;
    t->name_len = (uint16_t)name_len;
    t->value_off = (uint16_t)(d->line_start + v);
    t->value_len = (uint16_t)(v_end - v);
    line[v_end] = '\0';
    d->trailer_len = d->line_start + v_end + 1;
    return CHUNKED_OK;
}

/* ---- chunk headers ---- */

/* The chunk header line ended (after its LF). */
static chunked_status_t end_chunk_header(chunked_decoder_t *d)
{
    if (d->chunk_size > 0) {
        d->chunk_left = d->chunk_size;
        d->state = ST_DATA;
        if (is_signed(d))
            digest_begin(d);
        return CHUNKED_OK;
    }
    /* The final chunk: its signature covers empty data. */
    if (is_signed(d)) {
        digest_begin(d);
        if (verify_chunk(d) != CHUNKED_OK)
            return d->status;
    }
    d->state = d->mode == CHUNKED_SIGNED ? ST_END_CR : ST_TRAILER;
    d->line_start = d->trailer_len = 0;
    return CHUNKED_OK;
}

static chunked_status_t end_chunk_size(chunked_decoder_t *d)
{
    if (d->size_digits == 0)
        return fail(d, CHUNKED_E_FORMAT, "chunk header without a size");
    if (d->chunk_size > d->max_decoded_len - d->decoded_len)
        return fail(d, CHUNKED_E_TOO_LARGE, "chunk exceeds the maximum decoded length");
    if (d->chunk_size != 0) {
        if (d->short_chunk_seen)
            return fail(d, CHUNKED_E_CHUNK_SIZE, "a chunk under the minimum size was not the last");
        d->short_chunk_seen = d->chunk_size < d->min_chunk_size;
    }
    return CHUNKED_OK;
}

/* Consumes one byte outside chunk data. */
static chunked_status_t step(chunked_decoder_t *d, uint8_t c)
{
    int h;

    switch (d->state) {
    case ST_SIZE:
    case ST_SIG_KEY:
    case ST_SIG:
    case ST_EXT:
    case ST_HEADER_LF:
        if (++d->line_len > CHUNKED_MAX_LINE)
            return fail(d, CHUNKED_E_FORMAT, "chunk header line too long");
        break;
    case ST_TRAILER:
    case ST_TRAILER_LF:
        if (++d->trailer_raw_len > CHUNKED_MAX_TRAILER_LEN)
            return fail(d, CHUNKED_E_FORMAT, "trailer too long");
        break;
    }

    switch (d->state) {
    case ST_SIZE:
        if ((h = sigv4_hex_digit(c)) >= 0) {
            if (d->chunk_size > UINT64_MAX >> 4)
                return fail(d, CHUNKED_E_FORMAT, "chunk size overflows");
            d->chunk_size = d->chunk_size << 4 | (uint64_t)h;
            d->size_digits++;
            return CHUNKED_OK;
        }
        if (c != ';' && c != '\r')
            return fail(d, CHUNKED_E_FORMAT, "bad chunk size");
        if (end_chunk_size(d) != CHUNKED_OK)
            return d->status;
        if (c == '\r') {
            if (is_signed(d))
                return fail(d, CHUNKED_E_FORMAT, "chunk header without chunk-signature");
            d->state = ST_HEADER_LF;
        } else {
            d->state = is_signed(d) ? ST_SIG_KEY : ST_EXT;
            d->match = 0;
        }
        return CHUNKED_OK;
    case ST_SIG_KEY:
        if (c != (uint8_t)CHUNK_SIG_KEY[d->match])
            return fail(d, CHUNKED_E_FORMAT, "chunk header without chunk-signature");
        if (++d->match == sizeof(CHUNK_SIG_KEY) - 1) {
            d->state = ST_SIG;
            d->match = 0;
        }
        return CHUNKED_OK;
    case ST_SIG:
        if (d->match < 64) {
            if ((h = sigv4_hex_digit(c)) < 0)
                return fail(d, CHUNKED_E_FORMAT, "malformed chunk-signature");
            d->chunk_sig[d->match++] = hex_lower[h];
            return CHUNKED_OK;
        }
        if (c != '\r')
            return fail(d, CHUNKED_E_FORMAT, "malformed chunk-signature");
        d->state = ST_HEADER_LF;
        return CHUNKED_OK;
    case ST_EXT:
        if (c == '\r')
            d->state = ST_HEADER_LF;
        else if (c < 0x20 && c != '\t')
            return fail(d, CHUNKED_E_FORMAT, "control character in a chunk extension");
        return CHUNKED_OK;
    case ST_HEADER_LF:
        if (c != '\n')
            return fail(d, CHUNKED_E_FORMAT, "chunk header not ended by CRLF");
        return end_chunk_header(d);
    case ST_DATA_CR:
        if (c != '\r')
            return fail(d, CHUNKED_E_FORMAT, "no CRLF where the chunk data should end (data longer or shorter than its size)");
        d->state = ST_DATA_LF;
        return CHUNKED_OK;
    case ST_DATA_LF:
        if (c != '\n')
            return fail(d, CHUNKED_E_FORMAT, "chunk data not followed by CRLF");
        /* Checked once the chunk is framed right, so a misframed body is a format error in every mode. */
        if (is_signed(d) && verify_chunk(d) != CHUNKED_OK)
            return d->status;
        d->state = ST_SIZE;
        d->chunk_size = 0;
        d->size_digits = 0;
        d->line_len = 0;
        return CHUNKED_OK;
    case ST_END_CR:
        if (c != '\r')
            return fail(d, CHUNKED_E_FORMAT, "final chunk not followed by CRLF");
        d->state = ST_END_LF;
        return CHUNKED_OK;
    case ST_END_LF:
        if (c != '\n')
            return fail(d, CHUNKED_E_FORMAT, "final chunk not followed by CRLF");
        d->state = ST_DONE;
        d->status = CHUNKED_DONE;
        return CHUNKED_DONE;
    case ST_TRAILER:
        if (c == '\r') {
            d->state = ST_TRAILER_LF;
            return CHUNKED_OK;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(d, CHUNKED_E_FORMAT, "control character in a trailer");
        d->trailer_buf[d->trailer_len++] = (char)c;
        return CHUNKED_OK;
    case ST_TRAILER_LF:
        if (c != '\n')
            return fail(d, CHUNKED_E_FORMAT, "trailer line not ended by CRLF");
        d->state = ST_TRAILER;
        if (end_trailer_line(d) != CHUNKED_OK)
            return d->status;
        d->line_start = d->trailer_len;
        return CHUNKED_OK;
    }
    return fail(d, CHUNKED_E_FORMAT, "bytes after the end of the body");
}

/* ---- public ---- */

int chunked_mode_from_content_sha256(const char *value, size_t len, chunked_mode_t *mode)
{
    static const struct {
        const char *value;
        chunked_mode_t mode;
    } modes[] = {
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", CHUNKED_SIGNED},
        {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", CHUNKED_UNSIGNED_TRAILER},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", CHUNKED_SIGNED_TRAILER},
    };

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (len == strlen(modes[i].value) && memcmp(value, modes[i].value, len) == 0) {
            *mode = modes[i].mode;
            return 0;
        }
    }
    return -1;
}

int chunked_init(chunked_decoder_t *d, const chunked_config_t *cfg)
{
    memset(d, 0, offsetof(chunked_decoder_t, trailer_buf)); /* the 16 KiB buffer needs no clearing */
    d->mode = cfg->mode;
    d->state = ST_SIZE;
    d->max_decoded_len = cfg->has_max_decoded_len ? cfg->max_decoded_len : UINT64_MAX;
    d->min_chunk_size = cfg->min_chunk_size;
    if (cfg->mode != CHUNKED_SIGNED && cfg->mode != CHUNKED_UNSIGNED_TRAILER && cfg->mode != CHUNKED_SIGNED_TRAILER)
        goto Invalid;
    if (cfg->mode == CHUNKED_UNSIGNED_TRAILER)
        return 0;
    if (cfg->signing_key == NULL || cfg->amz_date == NULL || cfg->scope == NULL || cfg->seed_signature == NULL ||
        strlen(cfg->amz_date) >= sizeof(d->amz_date) || strlen(cfg->scope) >= sizeof(d->scope) ||
        !text_is_lower_hex(cfg->seed_signature, 64))
        goto Invalid;
    memcpy(d->signing_key, cfg->signing_key, SIGV4_KEY_LEN);
    strcpy(d->amz_date, cfg->amz_date);
    strcpy(d->scope, cfg->scope);
    memcpy(d->prev_sig, cfg->seed_signature, 64);
    pthread_once(&md_once, md_init);
    if ((d->md = EVP_MD_CTX_new()) == NULL)
        abort();
    return 0;

Invalid:
    fail(d, CHUNKED_E_FORMAT, "invalid decoder configuration");
    return -1;
}

void chunked_dispose(chunked_decoder_t *d)
{
    EVP_MD_CTX_free(d->md);
    d->md = NULL;
    OPENSSL_cleanse(d->signing_key, sizeof(d->signing_key));
}

chunked_status_t chunked_feed(chunked_decoder_t *d, const uint8_t *in, size_t len, chunked_data_cb on_data, void *ctx)
{
    const uint8_t *p = in, *end = in + len;

    if (d->status == CHUNKED_DONE && len != 0)
        return fail(d, CHUNKED_E_FORMAT, "bytes after the end of the body");
    if (d->status != CHUNKED_OK)
        return d->status;
    while (p < end) {
        if (d->state == ST_DATA) {
            size_t n = (size_t)(end - p) < d->chunk_left ? (size_t)(end - p) : (size_t)d->chunk_left;
            if (is_signed(d))
                digest_update(d, p, n);
            if (on_data != NULL)
                on_data(ctx, p, n);
            p += n;
            d->chunk_left -= n;
            d->decoded_len += n;
            if (d->chunk_left == 0)
                d->state = ST_DATA_CR;
            continue;
        }
        if (step(d, *p++) != CHUNKED_OK) {
            if (d->status == CHUNKED_DONE && p != end)
                return fail(d, CHUNKED_E_FORMAT, "bytes after the end of the body");
            return d->status;
        }
    }
    return CHUNKED_OK;
}

chunked_status_t chunked_finish(chunked_decoder_t *d)
{
    if (d->status != CHUNKED_OK)
        return d->status;
    if (d->state >= ST_TRAILER)
        return fail(d, CHUNKED_E_FORMAT, "body ended inside the trailer");
    if (d->state >= ST_END_CR)
        return fail(d, CHUNKED_E_FORMAT, "body ended without the CRLF after the final chunk");
    return fail(d, CHUNKED_E_FORMAT, "body ended before the final chunk");
}

const char *chunked_error_reason(const chunked_decoder_t *d)
{
    return d->status < 0 ? d->reason : NULL;
}

uint64_t chunked_decoded_length(const chunked_decoder_t *d)
{
    return d->decoded_len;
}

size_t chunked_num_trailers(const chunked_decoder_t *d)
{
    return d->num_trailers;
}

void chunked_trailer(const chunked_decoder_t *d, size_t i, const char **name, size_t *name_len, const char **value,
                     size_t *value_len)
{
    *name = trailer_name(d, i);
    *name_len = d->trailers[i].name_len;
    *value = trailer_value(d, i);
    *value_len = d->trailers[i].value_len;
}

const char *chunked_find_trailer(const chunked_decoder_t *d, const char *name)
{
    for (size_t i = 0; i < d->num_trailers; i++)
        if (strcmp(trailer_name(d, i), name) == 0)
            return trailer_value(d, i);
    return NULL;
}

size_t chunked_max_slices(size_t body_len)
{
    /* A chunk with data takes at least "1\r\n" + 1 byte + "\r\n" = 6 bytes. */
    return body_len / 6 + 1;
}

struct slices {
    struct iovec *iov;
    size_t cap, num;
    int overflow;
};

static void add_slice(void *ctx, const uint8_t *data, size_t len)
{
    struct slices *s = ctx;

    if (s->num > 0 && (const uint8_t *)s->iov[s->num - 1].iov_base + s->iov[s->num - 1].iov_len == data) {
        s->iov[s->num - 1].iov_len += len;
        return;
    }
    if (s->num == s->cap) {
        s->overflow = 1;
        return;
    }
    s->iov[s->num].iov_base = (void *)data;
    s->iov[s->num].iov_len = len;
    s->num++;
}

chunked_status_t chunked_decode_all(chunked_decoder_t *d, const uint8_t *body, size_t body_len, struct iovec *iov, size_t iov_cap,
                                    size_t *num_iov)
{
    struct slices s = {iov, iov_cap, 0, 0};
    chunked_status_t status = chunked_feed(d, body, body_len, add_slice, &s);

    *num_iov = s.num;
    if (status == CHUNKED_OK)
        status = chunked_finish(d);
    if (status == CHUNKED_DONE && s.overflow)
        status = fail(d, CHUNKED_E_TOO_LARGE, "more chunks than slices");
    return status;
}
