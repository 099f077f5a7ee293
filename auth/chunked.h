/* auth/chunked.h -- the aws-chunked request body decoder (streaming SigV4 uploads), as a pure state machine.
 *
 * DESIGN: a decoder is a fixed-size struct the caller embeds (request state, stack). It is fed the
 * body in pieces of any size, down to one byte, and hands the decoded object data back as slices
 * of the caller's own input buffers: no copy, no allocation per chunk. It checks the framing
 * strictly (sizes, CRLFs, line lengths, nothing after the end), verifies every chunk signature and
 * the trailer signature for the signed modes, and keeps the trailing headers (checksums) for the
 * caller to check once the body is done. Nothing here touches a socket, a clock or a key store.
 *
 * Wire formats (x-amz-content-sha256 selects one):
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          hex;chunk-signature=SIG CRLF data CRLF ... 0;chunk-signature=SIG CRLF CRLF
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER          hex[;ext] CRLF data CRLF ... 0[;ext] CRLF name:value CRLF ... CRLF
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  as signed, then after the final chunk header:
 *                                               name:value CRLF ... x-amz-trailer-signature:SIG CRLF CRLF
 */
#ifndef COFFER_CHUNKED_H
#define COFFER_CHUNKED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "auth/sigv4.h"

#define CHUNKED_MAX_LINE 4096         /* longest chunk header line, CRLF included */
#define CHUNKED_MAX_TRAILER_LEN 16384 /* longest trailer section (all lines, CRLFs included) */
#define CHUNKED_MAX_TRAILERS 16       /* trailing headers kept, x-amz-trailer-signature not counted */

typedef enum chunked_mode {
    CHUNKED_SIGNED = 1,       /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    CHUNKED_UNSIGNED_TRAILER, /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
    CHUNKED_SIGNED_TRAILER,   /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
} chunked_mode_t;

typedef enum chunked_status {
    CHUNKED_OK = 0,            /* everything fed was consumed; the body is not finished yet */
    CHUNKED_DONE = 1,          /* the final chunk (and trailer) arrived and verified */
    CHUNKED_E_FORMAT = -1,     /* malformed or incomplete body (S3: IncompleteBody / InvalidRequest) */
    CHUNKED_E_SIGNATURE = -2,  /* a chunk or trailer signature does not match (SignatureDoesNotMatch) */
    CHUNKED_E_TOO_LARGE = -3,  /* more data than max_decoded_len allows (EntityTooLarge) */
    CHUNKED_E_CHUNK_SIZE = -4, /* a data chunk other than the last is under min_chunk_size (InvalidChunkSizeError) */
} chunked_status_t;

/** What the decoder needs from the request's Authorization header; everything is copied by chunked_init. */
typedef struct chunked_config {
    chunked_mode_t mode;
    const uint8_t *signing_key; /* SIGV4_KEY_LEN bytes (sigv4_signing_key); signed modes only */
    const char *amz_date;       /* "YYYYMMDDTHHMMSSZ" as signed; signed modes only */
    const char *scope;          /* "YYYYMMDD/region/s3/aws4_request"; signed modes only */
    const char *seed_signature; /* the Authorization header's Signature (64 hex); signed modes only */
    int has_max_decoded_len;    /* 0: no limit; 1: a chunk that would exceed max_decoded_len (0 included) fails */
    uint64_t max_decoded_len;   /* with has_max_decoded_len: the most data allowed (CHUNKED_E_TOO_LARGE beyond) */
    uint32_t min_chunk_size;    /* 0: any; else every data chunk but the last holds at least this many bytes, which
                                   bounds the number of chunks (and the slices a caller keeps) by the data's size */
} chunked_config_t;

/** Called with each piece of decoded data, a slice of the buffer given to chunked_feed. */
typedef void (*chunked_data_cb)(void *ctx, const uint8_t *data, size_t len);

/** One trailing header, NUL-terminated inside the decoder: name lower-cased, value with surrounding blanks trimmed. */
typedef struct chunked_trailer_ref {
    uint16_t name_off, name_len, value_off, value_len;
} chunked_trailer_ref_t;

/**
 * Decoder state. Fields are private: use the functions below. The struct holds no pointer into the
 * config or the input, so it may outlive both; for the signed modes it owns one OpenSSL digest
 * context, released by chunked_dispose.
 */
typedef struct chunked_decoder {
    chunked_mode_t mode;
    int state;
    chunked_status_t status; /* sticky once not CHUNKED_OK */
    const char *reason;      /* static text saying why status is an error (for logs), or NULL */
    uint64_t max_decoded_len;
    uint64_t decoded_len;
    uint64_t chunk_size; /* declared size of the current chunk */
    uint64_t min_chunk_size;
    int short_chunk_seen; /* a data chunk under min_chunk_size arrived: it must have been the last */
    uint64_t chunk_left;  /* data bytes of the current chunk still to come */
    size_t line_len;      /* bytes of the current chunk header line so far */
    unsigned size_digits;
    unsigned match; /* progress through "chunk-signature=" or the signature's hex digits */
    void *md;       /* owned EVP_MD_CTX: SHA-256 of the current chunk (signed modes), NULL otherwise */
    uint8_t signing_key[SIGV4_KEY_LEN];
    char amz_date[17];
    char scope[128];
    char chunk_sig[64]; /* signature sent in the current chunk header */
    char prev_sig[64];  /* seed, then each verified chunk's signature */
    char trailer_sig[64];
    int have_trailer_sig;
    size_t trailer_raw_len; /* trailer section bytes seen, CRLFs included */
    size_t trailer_len;     /* bytes used in trailer_buf */
    size_t line_start;      /* where the trailer line being read starts in trailer_buf */
    size_t num_trailers;
    chunked_trailer_ref_t trailers[CHUNKED_MAX_TRAILERS];
    char trailer_buf[CHUNKED_MAX_TRAILER_LEN];
} chunked_decoder_t;

/**
 * Maps an x-amz-content-sha256 value to its mode. Returns 0, or -1 when the value is not one of the
 * three streaming aws-chunked values (a hex digest, UNSIGNED-PAYLOAD, ...).
 */
int chunked_mode_from_content_sha256(const char *value, size_t len, chunked_mode_t *mode);

/**
 * Prepares d for one body. Returns 0, or -1 when cfg is unusable (unknown mode; for the signed modes
 * a missing key, a seed signature that is not 64 lower-case hex characters, or an amz_date or scope
 * longer than 16 or 127 characters); d is then in the CHUNKED_E_FORMAT state, so chunked_dispose is
 * safe either way. Allocation failure aborts.
 */
int chunked_init(chunked_decoder_t *d, const chunked_config_t *cfg);

/** Releases what chunked_init took (the digest context) and wipes the signing key; d may be re-initialised. */
void chunked_dispose(chunked_decoder_t *d);

/**
 * Feeds the next len bytes of the body. Each run of decoded data is passed to on_data (if not NULL)
 * as a slice of in, in order, before feed returns. In the signed modes a chunk's data is passed on
 * before its signature can be checked (at the chunk's end): keep nothing unless a later call
 * returns CHUNKED_DONE.
 * Returns CHUNKED_OK (all consumed, more expected), CHUNKED_DONE (the body is complete and
 * verified; len may be 0 afterwards, more bytes are an error) or an error, which is sticky.
 */
chunked_status_t chunked_feed(chunked_decoder_t *d, const uint8_t *in, size_t len, chunked_data_cb on_data, void *ctx);

/** To call when the body has ended: returns CHUNKED_DONE, or the error (CHUNKED_E_FORMAT if the body stopped short). */
chunked_status_t chunked_finish(chunked_decoder_t *d);

/** Why the decoder failed, as static text for a log line; NULL while it has not. */
const char *chunked_error_reason(const chunked_decoder_t *d);

/** Decoded bytes so far; after CHUNKED_DONE the object's length (compare with x-amz-decoded-content-length). */
uint64_t chunked_decoded_length(const chunked_decoder_t *d);

/** Number of trailing headers kept (after CHUNKED_DONE; x-amz-trailer-signature is not one of them). */
size_t chunked_num_trailers(const chunked_decoder_t *d);

/** The i-th trailing header in the order sent; the strings live in d and are NUL-terminated. */
void chunked_trailer(const chunked_decoder_t *d, size_t i, const char **name, size_t *name_len, const char **value,
                     size_t *value_len);

/** The value of the (first) trailing header named name (lower-case), or NULL. */
const char *chunked_find_trailer(const chunked_decoder_t *d, const char *name);

/** Upper bound on the data slices chunked_decode_all can produce for a body of body_len bytes. */
size_t chunked_max_slices(size_t body_len);

/**
 * Decodes a body held whole in memory with an initialised decoder: fills iov with the data slices
 * (pointers into body, zero-length chunks skipped) and *num_iov with their count. Returns
 * CHUNKED_DONE, an error from the body, or CHUNKED_E_TOO_LARGE when the body has more slices than
 * iov_cap (never with iov_cap >= chunked_max_slices(body_len)). Trailers are read from d afterwards.
 */
chunked_status_t chunked_decode_all(chunked_decoder_t *d, const uint8_t *body, size_t body_len, struct iovec *iov, size_t iov_cap,
                                    size_t *num_iov);

#endif
