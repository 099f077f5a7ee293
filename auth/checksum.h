/* auth/checksum.h -- S3 flexible checksums: CRC32, CRC32C, CRC64NVME, SHA1, SHA256.
 *
 * DESIGN: pure functions over caller-owned memory. A checksum is computed
 * incrementally (init, update..., final) so a body can be hashed as it streams
 * in, and the digest travels the way S3 shows it: the raw digest bytes (CRCs
 * big-endian) in standard padded base64, in x-amz-checksum-<alg> headers and
 * trailers and in <ChecksumCRC32>-style XML elements.
 *
 * Multipart uploads have two kinds of whole-object checksum (x-amz-checksum-type):
 * COMPOSITE is the checksum of the concatenated part digests, shown as
 * "<base64>-<number of parts>"; FULL_OBJECT (CRCs only) is the CRC of the whole
 * object, which cksum_combine() derives from the part CRCs and part lengths
 * without reading the data again.
 *
 * CRC32 and CRC32C come from ISA-L; CRC64NVME (the "Rocksoft" CRC-64 of NVMe) is
 * computed here because Debian 12's ISA-L (2.30) predates crc64_rocksoft_refl:
 * carry-less multiply folding on x86-64 CPUs with PCLMULQDQ, slicing-by-8 tables
 * elsewhere. SHA1 and SHA256 use OpenSSL's EVP interface, whose context is opaque
 * and heap-allocated: see cksum_init() and cksum_cleanup().
 */
#ifndef COFFER_CHECKSUM_H
#define COFFER_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/** Largest digest (SHA256). */
#define CKSUM_MAX_DIGEST_LEN 32
/** Room for the base64 of the largest digest plus its NUL (44 + 1). */
#define CKSUM_BASE64_SIZE 45
/** Room for a composite checksum "<base64>-<parts>" with up to 10 digits of parts, plus NUL. */
#define CKSUM_COMPOSITE_SIZE (CKSUM_BASE64_SIZE + 11)

typedef enum cksum_alg {
    CKSUM_NONE = 0,
    CKSUM_CRC32,
    CKSUM_CRC32C,
    CKSUM_CRC64NVME,
    CKSUM_SHA1,
    CKSUM_SHA256,
    CKSUM_COUNT
} cksum_alg_t;

/** x-amz-checksum-type of a multipart upload. */
typedef enum cksum_type {
    CKSUM_TYPE_NONE = 0,
    CKSUM_TYPE_COMPOSITE,
    CKSUM_TYPE_FULL_OBJECT,
} cksum_type_t;

/**
 * A running checksum; embed it anywhere. For the CRC algorithms it holds no
 * resources. For SHA1/SHA256 cksum_init() allocates an OpenSSL EVP_MD_CTX
 * (OpenSSL 3 offers no embeddable SHA context outside its deprecated API) that
 * cksum_final() or cksum_cleanup() frees: a context that is initialized and then
 * abandoned (client gone, error) must go through cksum_cleanup().
 */
typedef struct cksum_ctx {
    cksum_alg_t alg;
    uint64_t crc;             /* CRC register, pre-inverted as the algorithm runs it */
    struct evp_md_ctx_st *md; /* owned; SHA algorithms only, NULL otherwise */
} cksum_ctx_t;

/**
 * Algorithm from its name as x-amz-checksum-algorithm / x-amz-sdk-checksum-algorithm
 * send it ("CRC32", "crc64nvme": case-insensitive). Returns CKSUM_NONE when unknown.
 */
cksum_alg_t cksum_alg_from_name(const char *s, size_t len);

/** The name as AWS writes it in headers and XML ("CRC32", "CRC64NVME", "SHA256"); NULL for CKSUM_NONE or out of range. */
const char *cksum_alg_name(cksum_alg_t a);

/** The lower-case header name ("x-amz-checksum-crc32"); NULL for CKSUM_NONE or out of range. */
const char *cksum_header_name(cksum_alg_t a);

/** Algorithm from a header or trailer name ("x-amz-checksum-sha1", any case). Returns CKSUM_NONE when unknown. */
cksum_alg_t cksum_alg_from_header(const char *name, size_t len);

/** Digest length in bytes: 4, 4, 8, 20, 32; 0 for CKSUM_NONE or out of range. */
size_t cksum_digest_len(cksum_alg_t a);

/** Checksum type from x-amz-checksum-type ("COMPOSITE", "FULL_OBJECT", any case). Returns CKSUM_TYPE_NONE when unknown. */
cksum_type_t cksum_type_from_name(const char *s, size_t len);

/** "COMPOSITE" or "FULL_OBJECT"; NULL for CKSUM_TYPE_NONE. */
const char *cksum_type_name(cksum_type_t t);

/**
 * Whether S3 allows the algorithm with the multipart checksum type: CRC32 and
 * CRC32C both, CRC64NVME FULL_OBJECT only, SHA1 and SHA256 COMPOSITE only.
 */
int cksum_type_allowed(cksum_alg_t a, cksum_type_t t);

/**
 * Starts a checksum. a must be a real algorithm (not CKSUM_NONE). For SHA
 * algorithms this allocates (see cksum_ctx_t); allocation failure aborts.
 */
void cksum_init(cksum_ctx_t *c, cksum_alg_t a);

/** Feeds n bytes. Any split of the input gives the same digest. */
void cksum_update(cksum_ctx_t *c, const void *p, size_t n);

/**
 * Writes the digest (CRCs big-endian, as S3 encodes them) and returns its
 * length. Releases what cksum_init() allocated; the context must be
 * initialized again before reuse.
 */
size_t cksum_final(cksum_ctx_t *c, uint8_t out[CKSUM_MAX_DIGEST_LEN]);

/** Releases a context that will not reach cksum_final(). Safe to call more than once, and after cksum_final(). */
void cksum_cleanup(cksum_ctx_t *c);

/** One-shot checksum of a buffer; returns the digest length. */
size_t cksum_compute(cksum_alg_t a, const void *p, size_t n, uint8_t out[CKSUM_MAX_DIGEST_LEN]);

/** Standard padded base64 of a digest, NUL-terminated; returns the length without the NUL. len <= CKSUM_MAX_DIGEST_LEN. */
size_t cksum_to_base64(const uint8_t *digest, size_t len, char out[CKSUM_BASE64_SIZE]);

/**
 * Decodes a header or XML value into a digest of algorithm a. Accepts exactly
 * the canonical padded base64 of a digest of the algorithm's length (no
 * whitespace, no missing padding, zero pad bits). Returns the digest length, or
 * -1 when the value is not that.
 */
int cksum_from_base64(cksum_alg_t a, const char *b64, size_t len, uint8_t out[CKSUM_MAX_DIGEST_LEN]);

/**
 * Decodes exactly the canonical padded base64 of dlen bytes (no whitespace, no missing padding,
 * zero pad bits) into out. Returns 0, or -1 when b64 is not that. (Content-MD5 uses it too.)
 */
int base64_decode_exact(const char *b64, size_t len, uint8_t *out, size_t dlen);

/** Formats a composite multipart checksum "<base64>-<num_parts>"; returns the length without the NUL. */
size_t cksum_format_composite(const uint8_t *digest, size_t len, unsigned num_parts, char out[CKSUM_COMPOSITE_SIZE]);

/**
 * CRC of a||b from the CRC digests of a and b and the length of b (as zlib's
 * crc32_combine), for FULL_OBJECT multipart checksums: fold the parts in order
 * starting from the CRC of nothing (all-zero digest). Digests are big-endian as
 * cksum_final() writes them; out may be crc_a or crc_b. Returns the digest
 * length, or -1 for algorithms that are not CRCs.
 */
int cksum_combine(cksum_alg_t a, const uint8_t *crc_a, const uint8_t *crc_b, uint64_t len_b, uint8_t out[8]);

/**
 * For tests: CRC64NVME through the table path that CPUs without PCLMULQDQ take,
 * chained as zlib's crc32 (start from 0, pass the previous result back in).
 */
uint64_t cksum_crc64nvme_portable(uint64_t crc, const void *p, size_t n);

#endif
