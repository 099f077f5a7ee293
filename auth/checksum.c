/* auth/checksum.c -- S3 flexible checksums (see checksum.h).
 *
 * DESIGN: every CRC here is a reflected CRC with all-ones init and xorout, so
 * one representation serves them all: a CRC value's bit i is the coefficient of
 * x^(width-1-i), and the combine of two CRCs is one multiplication by
 * x^(8 * len_b) modulo the polynomial (zlib's crc32_combine, made width-generic).
 *
 * CRC64NVME (polynomial 0xAD93D23594C93659, reflected 0x9A6C9329AC4BC9B5) is not
 * in Debian 12's ISA-L, so it is computed here. Long buffers go through
 * carry-less multiplication (PCLMULQDQ): four 128-bit accumulators are folded
 * forward 512 bits at a time, then into one, which keeps the CRC of the message
 * unchanged (folding only adds multiples of the polynomial); the last 16 folded
 * bytes and the tail then go through the byte tables. The folding constants are
 * x^n mod P, computed with the tables at first use rather than copied from
 * somewhere, so nothing here is a magic number beyond the polynomial. The method
 * is Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ"
 * (Gopal et al., 2009), without its Barrett step.
 */
#include "auth/checksum.h"
#include "auth/text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>
#include <openssl/evp.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CKSUM_HAVE_CLMUL 1
#endif

#define CRC32_POLY_REFL 0xEDB88320u
#define CRC32C_POLY_REFL 0x82F63B78u
#define CRC64NVME_POLY_REFL 0x9A6C9329AC4BC9B5ull

/* Below this many bytes the folding set-up costs more than it saves. */
#define CRC64_CLMUL_MIN 256

static const struct {
    const char *name;
    const char *header;
    size_t digest_len;
} alg_info[CKSUM_COUNT] = {
    [CKSUM_CRC32] = {"CRC32", "x-amz-checksum-crc32", 4},
    [CKSUM_CRC32C] = {"CRC32C", "x-amz-checksum-crc32c", 4},
    [CKSUM_CRC64NVME] = {"CRC64NVME", "x-amz-checksum-crc64nvme", 8},
    [CKSUM_SHA1] = {"SHA1", "x-amz-checksum-sha1", 20},
    [CKSUM_SHA256] = {"SHA256", "x-amz-checksum-sha256", 32},
};

static int alg_valid(cksum_alg_t a)
{
    return a > CKSUM_NONE && a < CKSUM_COUNT;
}

cksum_alg_t cksum_alg_from_name(const char *s, size_t len)
{
    for (int a = CKSUM_NONE + 1; a < CKSUM_COUNT; a++) {
        if (text_ieq_str(s, len, alg_info[a].name))
            return (cksum_alg_t)a;
    }
    return CKSUM_NONE;
}

const char *cksum_alg_name(cksum_alg_t a)
{
    return alg_valid(a) ? alg_info[a].name : NULL;
}

const char *cksum_header_name(cksum_alg_t a)
{
    return alg_valid(a) ? alg_info[a].header : NULL;
}

cksum_alg_t cksum_alg_from_header(const char *name, size_t len)
{
    for (int a = CKSUM_NONE + 1; a < CKSUM_COUNT; a++) {
        if (text_ieq_str(name, len, alg_info[a].header))
            return (cksum_alg_t)a;
    }
    return CKSUM_NONE;
}

size_t cksum_digest_len(cksum_alg_t a)
{
    return alg_valid(a) ? alg_info[a].digest_len : 0;
}

cksum_type_t cksum_type_from_name(const char *s, size_t len)
{
    if (text_ieq_str(s, len, "COMPOSITE"))
        return CKSUM_TYPE_COMPOSITE;
    if (text_ieq_str(s, len, "FULL_OBJECT"))
        return CKSUM_TYPE_FULL_OBJECT;
    return CKSUM_TYPE_NONE;
}

const char *cksum_type_name(cksum_type_t t)
{
    switch (t) {
    case CKSUM_TYPE_COMPOSITE:
        return "COMPOSITE";
    case CKSUM_TYPE_FULL_OBJECT:
        return "FULL_OBJECT";
    default:
        return NULL;
    }
}

int cksum_type_allowed(cksum_alg_t a, cksum_type_t t)
{
    switch (a) {
    case CKSUM_CRC32:
    case CKSUM_CRC32C:
        return t == CKSUM_TYPE_COMPOSITE || t == CKSUM_TYPE_FULL_OBJECT;
    case CKSUM_CRC64NVME:
        return t == CKSUM_TYPE_FULL_OBJECT;
    case CKSUM_SHA1:
    case CKSUM_SHA256:
        return t == CKSUM_TYPE_COMPOSITE;
    default:
        return 0;
    }
}

/* ---- CRC64NVME ---------------------------------------------------------- */

static uint64_t crc64_table[8][256];
/* x^n mod P for folding 128 and 512 bits; [0] multiplies the low (earlier) 64 bits of a lane, [1] the high. */
static uint64_t crc64_fold128[2], crc64_fold512[2];
static int crc64_use_clmul;
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

/* x^n mod P in the reflected representation (x^0 is the top bit). */
static uint64_t crc64_xpow(unsigned n)
{
    uint64_t v = (uint64_t)1 << 63;

    while (n-- > 0)
        v = (v & 1) ? (v >> 1) ^ CRC64NVME_POLY_REFL : v >> 1;
    return v;
}

static void crc64_init_tables(void)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ CRC64NVME_POLY_REFL : c >> 1;
        crc64_table[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++)
            crc64_table[t][i] = (crc64_table[t - 1][i] >> 8) ^ crc64_table[0][crc64_table[t - 1][i] & 0xff];
    }
    /* A carry-less product of two reflected 64-bit values comes out multiplied
     * by x once more, hence the -1 in every exponent. Folding a lane D bits
     * forward multiplies its first 64 bits by x^(D+64) and its last by x^D. */
    crc64_fold128[0] = crc64_xpow(128 + 64 - 1);
    crc64_fold128[1] = crc64_xpow(128 - 1);
    crc64_fold512[0] = crc64_xpow(512 + 64 - 1);
    crc64_fold512[1] = crc64_xpow(512 - 1);
#ifdef CKSUM_HAVE_CLMUL
    crc64_use_clmul = __builtin_cpu_supports("pclmul") != 0;
#endif
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Slicing-by-8 over the running (inverted) register. */
static uint64_t crc64_update_tables(uint64_t crc, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        crc ^= load_le64(p);
        crc = crc64_table[7][crc & 0xff] ^ crc64_table[6][(crc >> 8) & 0xff] ^ crc64_table[5][(crc >> 16) & 0xff] ^
              crc64_table[4][(crc >> 24) & 0xff] ^ crc64_table[3][(crc >> 32) & 0xff] ^ crc64_table[2][(crc >> 40) & 0xff] ^
              crc64_table[1][(crc >> 48) & 0xff] ^ crc64_table[0][crc >> 56];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        crc = (crc >> 8) ^ crc64_table[0][(crc ^ *p++) & 0xff];
    return crc;
}

#ifdef CKSUM_HAVE_CLMUL
__attribute__((target("pclmul"))) static inline __m128i crc64_fold(__m128i x, __m128i k)
{
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

/* n >= 64. The register is XORed into the first 8 bytes, then the message is
 * folded down to 16 bytes with the same CRC, which the tables finish. */
__attribute__((target("pclmul"))) static uint64_t crc64_update_clmul(uint64_t crc, const uint8_t *p, size_t n)
{
    const __m128i k512 = _mm_set_epi64x((long long)crc64_fold512[1], (long long)crc64_fold512[0]);
    const __m128i k128 = _mm_set_epi64x((long long)crc64_fold128[1], (long long)crc64_fold128[0]);
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi64_si128((long long)crc));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    uint8_t last[16];

    p += 64;
    n -= 64;
    while (n >= 64) {
        x0 = _mm_xor_si128(crc64_fold(x0, k512), _mm_loadu_si128((const __m128i *)p));
        x1 = _mm_xor_si128(crc64_fold(x1, k512), _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = _mm_xor_si128(crc64_fold(x2, k512), _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = _mm_xor_si128(crc64_fold(x3, k512), _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        n -= 64;
    }
    x0 = _mm_xor_si128(crc64_fold(x0, k128), x1);
    x0 = _mm_xor_si128(crc64_fold(x0, k128), x2);
    x0 = _mm_xor_si128(crc64_fold(x0, k128), x3);
    while (n >= 16) {
        x0 = _mm_xor_si128(crc64_fold(x0, k128), _mm_loadu_si128((const __m128i *)p));
        p += 16;
        n -= 16;
    }
    _mm_storeu_si128((__m128i *)last, x0);
    return crc64_update_tables(crc64_update_tables(0, last, sizeof(last)), p, n);
}
#endif

static uint64_t crc64_update(uint64_t crc, const uint8_t *p, size_t n)
{
    pthread_once(&crc64_once, crc64_init_tables);
#ifdef CKSUM_HAVE_CLMUL
    if (crc64_use_clmul && n >= CRC64_CLMUL_MIN)
        return crc64_update_clmul(crc, p, n);
#endif
    return crc64_update_tables(crc, p, n);
}

uint64_t cksum_crc64nvme_portable(uint64_t crc, const void *p, size_t n)
{
    pthread_once(&crc64_once, crc64_init_tables);
    return ~crc64_update_tables(~crc, p, n);
}

/* ---- incremental interface ---------------------------------------------- */

static uint32_t crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
    /* crc32_iscsi takes an int length and a non-const buffer it only reads. */
    while (n > 0) {
        size_t take = n > (1u << 30) ? (1u << 30) : n;
        crc = crc32_iscsi((unsigned char *)p, (int)take, crc);
        p += take;
        n -= take;
    }
    return crc;
}

static void store_be(uint64_t v, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

static uint64_t load_be(const uint8_t *p, size_t len)
{
    uint64_t v = 0;

    for (size_t i = 0; i < len; i++)
        v = (v << 8) | p[i];
    return v;
}

void cksum_init(cksum_ctx_t *c, cksum_alg_t a)
{
    const EVP_MD *type = NULL;

    c->alg = a;
    c->crc = 0;
    c->md = NULL;
    switch (a) {
    case CKSUM_CRC32:
        c->crc = 0; /* crc32_gzip_refl inverts on entry and exit, as zlib's crc32 */
        return;
    case CKSUM_CRC32C:
        c->crc = 0xFFFFFFFFu;
        return;
    case CKSUM_CRC64NVME:
        c->crc = ~(uint64_t)0;
        return;
    case CKSUM_SHA1:
        type = EVP_sha1();
        break;
    case CKSUM_SHA256:
        type = EVP_sha256();
        break;
    default:
        c->alg = CKSUM_NONE;
        return;
    }
    if ((c->md = EVP_MD_CTX_new()) == NULL || !EVP_DigestInit_ex(c->md, type, NULL)) {
        fprintf(stderr, "cksum_init: EVP_DigestInit_ex %s failed\n", alg_info[a].name);
        abort();
    }
}

void cksum_update(cksum_ctx_t *c, const void *p, size_t n)
{
    switch (c->alg) {
    case CKSUM_CRC32:
        c->crc = crc32_gzip_refl((uint32_t)c->crc, p, n);
        break;
    case CKSUM_CRC32C:
        c->crc = crc32c_update((uint32_t)c->crc, p, n);
        break;
    case CKSUM_CRC64NVME:
        c->crc = crc64_update(c->crc, p, n);
        break;
    case CKSUM_SHA1:
    case CKSUM_SHA256:
        if (!EVP_DigestUpdate(c->md, p, n)) {
            fprintf(stderr, "cksum_update: EVP_DigestUpdate failed\n");
            abort();
        }
        break;
    default:
        break;
    }
}

size_t cksum_final(cksum_ctx_t *c, uint8_t out[CKSUM_MAX_DIGEST_LEN])
{
    unsigned md_len = 0;

    switch (c->alg) {
    case CKSUM_CRC32:
        store_be((uint32_t)c->crc, out, 4);
        return 4;
    case CKSUM_CRC32C:
        store_be((uint32_t)~c->crc, out, 4);
        return 4;
    case CKSUM_CRC64NVME:
        store_be(~c->crc, out, 8);
        return 8;
    case CKSUM_SHA1:
    case CKSUM_SHA256:
        if (!EVP_DigestFinal_ex(c->md, out, &md_len)) {
            fprintf(stderr, "cksum_final: EVP_DigestFinal_ex failed\n");
            abort();
        }
        cksum_cleanup(c);
        return md_len;
    default:
        return 0;
    }
}

void cksum_cleanup(cksum_ctx_t *c)
{
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
}

size_t cksum_compute(cksum_alg_t a, const void *p, size_t n, uint8_t out[CKSUM_MAX_DIGEST_LEN])
{
    cksum_ctx_t c;

    cksum_init(&c, a);
    cksum_update(&c, p, n);
    return cksum_final(&c, out);
}

/* ---- base64 ------------------------------------------------------------- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t cksum_to_base64(const uint8_t *digest, size_t len, char out[CKSUM_BASE64_SIZE])
{
    size_t o = 0;

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)digest[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)digest[i + 1] << 8;
        if (i + 2 < len)
            v |= digest[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static int b64_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

int cksum_from_base64(cksum_alg_t a, const char *b64, size_t len, uint8_t out[CKSUM_MAX_DIGEST_LEN])
{
    size_t dlen = cksum_digest_len(a);
    return dlen != 0 && base64_decode_exact(b64, len, out, dlen) == 0 ? (int)dlen : -1;
}

int base64_decode_exact(const char *b64, size_t len, uint8_t *out, size_t dlen)
{
    size_t o = 0;

    if (dlen == 0 || len != (dlen + 2) / 3 * 4)
        return -1;
    for (size_t i = 0; i < len; i += 4) {
        size_t bytes = dlen - o < 3 ? dlen - o : 3; /* 1 or 2 only in the last group */
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d;
            if (k > bytes) {
                if (b64[i + k] != '=')
                    return -1;
                d = 0;
            } else if ((d = b64_value(b64[i + k])) < 0) {
                return -1;
            }
            v = (v << 6) | (uint32_t)d;
        }
        if ((v & ((1u << (8 * (3 - bytes))) - 1)) != 0)
            return -1; /* pad bits set: not the canonical encoding */
        for (size_t k = 0; k < bytes; k++)
            out[o++] = (uint8_t)(v >> (16 - 8 * k));
    }
    return 0;
}

size_t cksum_format_composite(const uint8_t *digest, size_t len, unsigned num_parts, char out[CKSUM_COMPOSITE_SIZE])
{
    size_t n = cksum_to_base64(digest, len, out);

    return n + (size_t)snprintf(out + n, CKSUM_COMPOSITE_SIZE - n, "-%u", num_parts);
}

/* ---- combine ------------------------------------------------------------ */

/* a * b mod P for reflected polynomials of the given width (zlib's multmodp). */
static uint64_t gf2_mulmod(uint64_t a, uint64_t b, unsigned width, uint64_t poly)
{
    uint64_t p = 0;

    for (uint64_t m = (uint64_t)1 << (width - 1); m != 0; m >>= 1) {
        if (a & m)
            p ^= b;
        b = (b & 1) ? (b >> 1) ^ poly : b >> 1;
    }
    return p;
}

/* x^(8 * len) mod P, by squaring x^8. */
static uint64_t gf2_xpow8n(uint64_t len, unsigned width, uint64_t poly)
{
    uint64_t result = (uint64_t)1 << (width - 1); /* x^0 */
    uint64_t sq = (uint64_t)1 << (width - 1 - 8); /* x^8 */

    for (; len != 0; len >>= 1) {
        if (len & 1)
            result = gf2_mulmod(result, sq, width, poly);
        sq = gf2_mulmod(sq, sq, width, poly);
    }
    return result;
}

int cksum_combine(cksum_alg_t a, const uint8_t *crc_a, const uint8_t *crc_b, uint64_t len_b, uint8_t out[8])
{
    unsigned width;
    uint64_t poly;

    switch (a) {
    case CKSUM_CRC32:
        width = 32;
        poly = CRC32_POLY_REFL;
        break;
    case CKSUM_CRC32C:
        width = 32;
        poly = CRC32C_POLY_REFL;
        break;
    case CKSUM_CRC64NVME:
        width = 64;
        poly = CRC64NVME_POLY_REFL;
        break;
    default:
        return -1;
    }
    /* With all-ones init and xorout, crc(a||b) = crc(a) * x^(8 len_b) + crc(b). */
    size_t dlen = width / 8;
    uint64_t va = load_be(crc_a, dlen), vb = load_be(crc_b, dlen);
    store_be(gf2_mulmod(gf2_xpow8n(len_b, width, poly), va, width, poly) ^ vb, out, dlen);
    return (int)dlen;
}
