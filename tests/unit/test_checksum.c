/* tests/unit/test_checksum.c -- S3 flexible checksums against known answers and independent references.
 *
 * DESIGN: the known answers (digests and the base64 strings clients send) were
 * produced by Python: zlib.crc32, hashlib, and a bit-at-a-time CRC for CRC32C
 * and CRC64NVME; "123456789" is each CRC's published check value. The CRCs are
 * also checked against a bit-at-a-time reference written here, over every
 * length and alignment around the folding thresholds, so the fast paths are
 * tested by something that shares no code with them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/checksum.h"

#define ALL_ALGS                                                                                                                   \
    {                                                                                                                              \
        CKSUM_CRC32, CKSUM_CRC32C, CKSUM_CRC64NVME, CKSUM_SHA1, CKSUM_SHA256                                                       \
    }
#define CRC_ALGS                                                                                                                   \
    {                                                                                                                              \
        CKSUM_CRC32, CKSUM_CRC32C, CKSUM_CRC64NVME                                                                                 \
    }

/* Bit-at-a-time reflected CRC with all-ones init and xorout. */
static uint64_t ref_crc(cksum_alg_t a, const uint8_t *p, size_t n)
{
    uint64_t poly, mask;

    switch (a) {
    case CKSUM_CRC32:
        poly = 0xEDB88320u;
        mask = 0xFFFFFFFFu;
        break;
    case CKSUM_CRC32C:
        poly = 0x82F63B78u;
        mask = 0xFFFFFFFFu;
        break;
    default:
        poly = 0x9A6C9329AC4BC9B5ull;
        mask = ~(uint64_t)0;
        break;
    }
    uint64_t c = mask;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
    }
    return c ^ mask;
}

static uint64_t be_value(const uint8_t *d, size_t len)
{
    uint64_t v = 0;

    for (size_t i = 0; i < len; i++)
        v = (v << 8) | d[i];
    return v;
}

static void to_hex(const uint8_t *d, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
    out[2 * len] = '\0';
}

/* xorshift64*: deterministic data and lengths. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rng() >> 56);
}

static void assert_digest(cksum_alg_t a, const void *p, size_t n, const char *hex, const char *b64)
{
    uint8_t d[CKSUM_MAX_DIGEST_LEN];
    char got_hex[2 * CKSUM_MAX_DIGEST_LEN + 1], got_b64[CKSUM_BASE64_SIZE];
    size_t len = cksum_compute(a, p, n, d);

    assert_int_equal(len, cksum_digest_len(a));
    to_hex(d, len, got_hex);
    assert_string_equal(got_hex, hex);
    if (b64 != NULL) {
        assert_int_equal(cksum_to_base64(d, len, got_b64), strlen(b64));
        assert_string_equal(got_b64, b64);
    }
}

static void test_known_answers(void **state)
{
    (void)state;
    static const struct {
        cksum_alg_t alg;
        const char *input;
        const char *hex;
        const char *b64;
    } cases[] = {
        {CKSUM_CRC32, "", "00000000", "AAAAAA=="},
        {CKSUM_CRC32, "123456789", "cbf43926", "y/Q5Jg=="},
        {CKSUM_CRC32, "Hello world", "8bd69e52", "i9aeUg=="},
        {CKSUM_CRC32C, "", "00000000", "AAAAAA=="},
        {CKSUM_CRC32C, "123456789", "e3069283", "4waSgw=="},
        {CKSUM_CRC32C, "Hello world", "72b51f78", "crUfeA=="},
        {CKSUM_CRC64NVME, "", "0000000000000000", "AAAAAAAAAAA="},
        {CKSUM_CRC64NVME, "123456789", "ae8b14860a799888", "rosUhgp5mIg="},
        {CKSUM_CRC64NVME, "Hello world", "38e259d03f312adb", "OOJZ0D8xKts="},
        {CKSUM_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "2jmj7l5rSw0yVb/vlWAYkK/YBwk="},
        {CKSUM_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="},
        {CKSUM_SHA1, "Hello world", "7b502c3a1f48c8609ae212cdfb639dee39673f5e", "e1AsOh9IyGCa4hLN+2Od7jlnP14="},
        {CKSUM_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
         "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
        {CKSUM_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
         "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
        {CKSUM_SHA256, "Hello world", "64ec88ca00b268e5ba1a35678a1b5316d212f4f366b2477232534a8aeca37f3c",
         "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t d[CKSUM_MAX_DIGEST_LEN];
        size_t n = strlen(cases[i].input);
        assert_digest(cases[i].alg, cases[i].input, n, cases[i].hex, cases[i].b64);
        assert_int_equal(cksum_from_base64(cases[i].alg, cases[i].b64, strlen(cases[i].b64), d), cksum_digest_len(cases[i].alg));
        if (cases[i].alg <= CKSUM_CRC64NVME)
            assert_int_equal(be_value(d, cksum_digest_len(cases[i].alg)),
                             ref_crc(cases[i].alg, (const uint8_t *)cases[i].input, n));
        if (cases[i].alg == CKSUM_CRC64NVME)
            assert_int_equal(cksum_crc64nvme_portable(0, cases[i].input, n), be_value(d, 8));
    }
}

static void test_one_mib_pattern(void **state)
{
    (void)state;
    static const struct {
        cksum_alg_t alg;
        const char *hex; /* Python over bytes(((i*31) + (i>>8)*7) & 0xff for i in range(1<<20)) */
    } cases[] = {
        {CKSUM_CRC32, "c59458a7"},
        {CKSUM_CRC32C, "bd5802d7"},
        {CKSUM_CRC64NVME, "029fc10b16856f05"},
        {CKSUM_SHA1, "6c2da350101fb4995a929d60801e95a2598cbf7f"},
        {CKSUM_SHA256, "e98c46781adca31c1f87ee1bcf87ffb51b868a43ad473cbc1a12486caf9b7ed9"},
    };
    size_t n = 1u << 20;
    uint8_t *buf = malloc(n);

    assert_non_null(buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 31 + (i >> 8) * 7);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_digest(cases[i].alg, buf, n, cases[i].hex, NULL);
        if (cases[i].alg <= CKSUM_CRC64NVME) {
            uint8_t d[CKSUM_MAX_DIGEST_LEN];
            size_t len = cksum_compute(cases[i].alg, buf, n, d);
            assert_int_equal(be_value(d, len), ref_crc(cases[i].alg, buf, n));
        }
    }
    assert_int_equal(cksum_crc64nvme_portable(0, buf, n), 0x029fc10b16856f05ull);
    free(buf);
}

/* Every length and alignment across the CRC64NVME folding thresholds, and a sample for the ISA-L CRCs. */
static void test_crc_lengths_and_alignments(void **state)
{
    (void)state;
    static const cksum_alg_t algs[] = CRC_ALGS;
    uint8_t buf[8 + 1100];

    fill_random(buf, sizeof(buf));
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; n <= 1100; n += (n < 700 ? 1 : 37)) {
            for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
                uint8_t d[CKSUM_MAX_DIGEST_LEN];
                size_t len = cksum_compute(algs[a], buf + off, n, d);
                uint64_t want = ref_crc(algs[a], buf + off, n);
                if (be_value(d, len) != want)
                    fail_msg("alg %d offset %zu length %zu", (int)algs[a], off, n);
            }
            assert_int_equal(cksum_crc64nvme_portable(0, buf + off, n), ref_crc(CKSUM_CRC64NVME, buf + off, n));
        }
    }
}

static void test_incremental_splits(void **state)
{
    (void)state;
    static const cksum_alg_t algs[] = ALL_ALGS;
    uint8_t buf[1000];

    fill_random(buf, sizeof(buf));
    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        uint8_t whole[CKSUM_MAX_DIGEST_LEN], d[CKSUM_MAX_DIGEST_LEN];
        size_t len = cksum_compute(algs[a], buf, sizeof(buf), whole);
        cksum_ctx_t c;

        for (size_t split = 0; split <= sizeof(buf); split++) {
            cksum_init(&c, algs[a]);
            cksum_update(&c, buf, split);
            cksum_update(&c, buf + split, sizeof(buf) - split);
            assert_int_equal(cksum_final(&c, d), len);
            if (memcmp(d, whole, len) != 0)
                fail_msg("alg %d split at %zu", (int)algs[a], split);
        }
        /* a byte at a time, and random piece sizes */
        cksum_init(&c, algs[a]);
        for (size_t i = 0; i < sizeof(buf); i++)
            cksum_update(&c, buf + i, 1);
        assert_int_equal(cksum_final(&c, d), len);
        assert_memory_equal(d, whole, len);
        for (int round = 0; round < 50; round++) {
            cksum_init(&c, algs[a]);
            for (size_t pos = 0; pos < sizeof(buf);) {
                size_t take = (size_t)(rng() % 400);
                if (take > sizeof(buf) - pos)
                    take = sizeof(buf) - pos;
                cksum_update(&c, buf + pos, take);
                pos += take;
            }
            assert_int_equal(cksum_final(&c, d), len);
            assert_memory_equal(d, whole, len);
        }
    }
}

static void test_base64_round_trip(void **state)
{
    (void)state;
    static const cksum_alg_t algs[] = ALL_ALGS;
    static const size_t b64_lens[] = {8, 8, 12, 28, 44};

    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        for (int round = 0; round < 200; round++) {
            uint8_t d[CKSUM_MAX_DIGEST_LEN], back[CKSUM_MAX_DIGEST_LEN];
            char b64[CKSUM_BASE64_SIZE];
            size_t len = cksum_digest_len(algs[a]);
            fill_random(d, len);
            if (round == 0)
                memset(d, 0, len);
            if (round == 1)
                memset(d, 0xff, len);
            assert_int_equal(cksum_to_base64(d, len, b64), b64_lens[a]);
            assert_int_equal(strlen(b64), b64_lens[a]);
            assert_int_equal(cksum_from_base64(algs[a], b64, b64_lens[a], back), (int)len);
            assert_memory_equal(d, back, len);
        }
    }
}

static void test_base64_invalid(void **state)
{
    (void)state;
    static const struct {
        cksum_alg_t alg;
        const char *b64;
    } cases[] = {
        {CKSUM_CRC32, ""},
        {CKSUM_CRC32, "i9aeUg="},                                      /* short */
        {CKSUM_CRC32, "i9aeUg"},                                       /* padding left off */
        {CKSUM_CRC32, "i9aeUg==="},                                    /* long */
        {CKSUM_CRC32, "i9aeUh=="},                                     /* pad bits set */
        {CKSUM_CRC32, "i9aeU==="},                                     /* too much padding */
        {CKSUM_CRC32, "i9ae=g=="},                                     /* '=' inside */
        {CKSUM_CRC32, "i9a Ug=="},                                     /* space */
        {CKSUM_CRC32, "i9ae-g=="},                                     /* base64url alphabet */
        {CKSUM_CRC32, "i9aeUg=A"},                                     /* data after padding */
        {CKSUM_CRC32, "rosUhgp5mIg="},                                 /* a CRC64NVME digest */
        {CKSUM_CRC32C, "4waSgw=\n"},                                   /* newline */
        {CKSUM_CRC64NVME, "rosUhgp5mIg"},                              /* padding left off */
        {CKSUM_CRC64NVME, "rosUhgp5mIh="},                             /* pad bits set */
        {CKSUM_CRC64NVME, "i9aeUg=="},                                 /* a CRC32 digest */
        {CKSUM_SHA1, "qZk+NkcGgWq6PiVxeFDCbJzQ2J0"},                   /* padding left off */
        {CKSUM_SHA1, "qZk+NkcGgWq6PiVxeFDCbJzQ2J1="},                  /* pad bits set */
        {CKSUM_SHA1, "qZk_NkcGgWq6PiVxeFDCbJzQ2J0="},                  /* base64url alphabet */
        {CKSUM_SHA256, "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="},                /* a SHA1 digest */
        {CKSUM_SHA256, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0"}, /* padding left off */
        {CKSUM_NONE, "AAAAAA=="},
        {CKSUM_COUNT, "AAAAAA=="},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t d[CKSUM_MAX_DIGEST_LEN];
        if (cksum_from_base64(cases[i].alg, cases[i].b64, strlen(cases[i].b64), d) != -1)
            fail_msg("accepted alg %d \"%s\"", (int)cases[i].alg, cases[i].b64);
    }
    /* a NUL inside the given length is not base64 either */
    uint8_t d[CKSUM_MAX_DIGEST_LEN];
    assert_int_equal(cksum_from_base64(CKSUM_CRC32, "i9ae\0g==", 8, d), -1);
}

static void test_composite_format(void **state)
{
    (void)state;
    uint8_t d[CKSUM_MAX_DIGEST_LEN];
    char out[CKSUM_COMPOSITE_SIZE];

    cksum_compute(CKSUM_CRC32, "Hello world", 11, d);
    assert_int_equal(cksum_format_composite(d, 4, 3, out), strlen("i9aeUg==-3"));
    assert_string_equal(out, "i9aeUg==-3");
    cksum_compute(CKSUM_SHA256, "abc", 3, d);
    assert_int_equal(cksum_format_composite(d, 32, 10000, out), 44 + 6);
    assert_string_equal(out, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=-10000");
    assert_int_equal(cksum_format_composite(d, 32, 4294967295u, out), 44 + 11);
    assert_string_equal(out, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=-4294967295");

    /* A composite checksum is the checksum of the part digests in order. */
    uint8_t parts[2][4], composite[CKSUM_MAX_DIGEST_LEN];
    cksum_ctx_t c;
    cksum_compute(CKSUM_CRC32C, "Hello ", 6, d);
    memcpy(parts[0], d, 4);
    cksum_compute(CKSUM_CRC32C, "world", 5, d);
    memcpy(parts[1], d, 4);
    cksum_init(&c, CKSUM_CRC32C);
    cksum_update(&c, parts[0], 4);
    cksum_update(&c, parts[1], 4);
    assert_int_equal(cksum_final(&c, composite), 4);
    cksum_compute(CKSUM_CRC32C, parts, sizeof(parts), d);
    assert_memory_equal(composite, d, 4);
}

static void test_combine(void **state)
{
    (void)state;
    static const cksum_alg_t algs[] = CRC_ALGS;
    static uint8_t buf[200000];

    fill_random(buf, sizeof(buf));
    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        size_t dlen = cksum_digest_len(algs[a]);
        for (int round = 0; round < 200; round++) {
            size_t len_a, len_b;
            if (round < 4) { /* the zero-length corners */
                len_a = (round & 1) ? 0 : 1000;
                len_b = (round & 2) ? 0 : 777;
            } else {
                len_a = (size_t)(rng() % (round < 100 ? 300 : sizeof(buf) / 2));
                len_b = (size_t)(rng() % (round < 100 ? 300 : sizeof(buf) / 2));
            }
            uint8_t ca[CKSUM_MAX_DIGEST_LEN], cb[CKSUM_MAX_DIGEST_LEN], whole[CKSUM_MAX_DIGEST_LEN], combined[8];
            cksum_compute(algs[a], buf, len_a, ca);
            cksum_compute(algs[a], buf + len_a, len_b, cb);
            cksum_compute(algs[a], buf, len_a + len_b, whole);
            assert_int_equal(cksum_combine(algs[a], ca, cb, len_b, combined), (int)dlen);
            if (memcmp(combined, whole, dlen) != 0)
                fail_msg("alg %d len_a %zu len_b %zu", (int)algs[a], len_a, len_b);
        }

        /* FULL_OBJECT: fold part CRCs in order, starting from the CRC of nothing. */
        uint8_t acc[8] = {0}, part[CKSUM_MAX_DIGEST_LEN], whole[CKSUM_MAX_DIGEST_LEN];
        size_t pos = 0;
        while (pos < sizeof(buf)) {
            size_t take = 1 + (size_t)(rng() % 30000);
            if (take > sizeof(buf) - pos)
                take = sizeof(buf) - pos;
            cksum_compute(algs[a], buf + pos, take, part);
            assert_int_equal(cksum_combine(algs[a], acc, part, take, acc), (int)dlen);
            pos += take;
        }
        cksum_compute(algs[a], buf, sizeof(buf), whole);
        assert_memory_equal(acc, whole, dlen);
    }

    /* A length that does not fit in 32 bits: combine with the CRC of nothing is a
     * multiplication by x^(8 len), so a^(2^k) and doubling checks agree. */
    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        uint8_t x[CKSUM_MAX_DIGEST_LEN], zero[8] = {0}, once[8], twice[8], direct[8];
        cksum_compute(algs[a], "123456789", 9, x);
        cksum_combine(algs[a], x, zero, 3000000000ull, once);
        cksum_combine(algs[a], once, zero, 3000000000ull, twice);
        cksum_combine(algs[a], x, zero, 6000000000ull, direct);
        assert_memory_equal(twice, direct, cksum_digest_len(algs[a]));
    }

    uint8_t d[CKSUM_MAX_DIGEST_LEN], out[8];
    cksum_compute(CKSUM_SHA1, "abc", 3, d);
    assert_int_equal(cksum_combine(CKSUM_SHA1, d, d, 3, out), -1);
    assert_int_equal(cksum_combine(CKSUM_SHA256, d, d, 3, out), -1);
    assert_int_equal(cksum_combine(CKSUM_NONE, d, d, 3, out), -1);
}

static void test_names(void **state)
{
    (void)state;
    static const struct {
        cksum_alg_t alg;
        const char *name;
        const char *header;
        size_t digest_len;
    } cases[] = {
        {CKSUM_CRC32, "CRC32", "x-amz-checksum-crc32", 4},
        {CKSUM_CRC32C, "CRC32C", "x-amz-checksum-crc32c", 4},
        {CKSUM_CRC64NVME, "CRC64NVME", "x-amz-checksum-crc64nvme", 8},
        {CKSUM_SHA1, "SHA1", "x-amz-checksum-sha1", 20},
        {CKSUM_SHA256, "SHA256", "x-amz-checksum-sha256", 32},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char lower[32], upper[64];
        const char *n = cases[i].name, *h = cases[i].header;
        size_t k;
        for (k = 0; n[k]; k++)
            lower[k] = (char)(n[k] >= 'A' && n[k] <= 'Z' ? n[k] + 32 : n[k]);
        for (k = 0; h[k]; k++)
            upper[k] = (char)(h[k] >= 'a' && h[k] <= 'z' ? h[k] - 32 : h[k]);
        assert_string_equal(cksum_alg_name(cases[i].alg), n);
        assert_string_equal(cksum_header_name(cases[i].alg), h);
        assert_int_equal(cksum_digest_len(cases[i].alg), cases[i].digest_len);
        assert_int_equal(cksum_alg_from_name(n, strlen(n)), cases[i].alg);
        assert_int_equal(cksum_alg_from_name(lower, strlen(n)), cases[i].alg);
        assert_int_equal(cksum_alg_from_header(h, strlen(h)), cases[i].alg);
        assert_int_equal(cksum_alg_from_header(upper, strlen(h)), cases[i].alg);
        /* lengths are honoured: no prefix matches */
        assert_int_equal(cksum_alg_from_name(n, strlen(n) - 1) == cases[i].alg, 0);
        assert_int_equal(cksum_alg_from_header(h, strlen(h) - 1) == cases[i].alg, 0);
    }
    static const char *unknown[] = {"", "MD5", "CRC", "CRC64", "CRC32CX", "SHA", "SHA512", "x-amz-checksum-crc32", "NONE"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_int_equal(cksum_alg_from_name(unknown[i], strlen(unknown[i])), CKSUM_NONE);
    static const char *unknown_headers[] = {"",
                                            "x-amz-checksum-",
                                            "x-amz-checksum-md5",
                                            "x-amz-checksum-algorithm",
                                            "x-amz-checksum-type",
                                            "x-amz-checksum-crc32 ",
                                            "content-md5",
                                            "CRC32"};
    for (size_t i = 0; i < sizeof(unknown_headers) / sizeof(unknown_headers[0]); i++)
        assert_int_equal(cksum_alg_from_header(unknown_headers[i], strlen(unknown_headers[i])), CKSUM_NONE);
    assert_null(cksum_alg_name(CKSUM_NONE));
    assert_null(cksum_header_name(CKSUM_COUNT));
    assert_int_equal(cksum_digest_len(CKSUM_NONE), 0);
}

static void test_checksum_types(void **state)
{
    (void)state;
    assert_int_equal(cksum_type_from_name("COMPOSITE", 9), CKSUM_TYPE_COMPOSITE);
    assert_int_equal(cksum_type_from_name("full_object", 11), CKSUM_TYPE_FULL_OBJECT);
    assert_int_equal(cksum_type_from_name("FULL", 4), CKSUM_TYPE_NONE);
    assert_int_equal(cksum_type_from_name("", 0), CKSUM_TYPE_NONE);
    assert_string_equal(cksum_type_name(CKSUM_TYPE_COMPOSITE), "COMPOSITE");
    assert_string_equal(cksum_type_name(CKSUM_TYPE_FULL_OBJECT), "FULL_OBJECT");
    assert_null(cksum_type_name(CKSUM_TYPE_NONE));

    static const struct {
        cksum_alg_t alg;
        int composite, full_object;
    } cases[] = {
        {CKSUM_CRC32, 1, 1}, {CKSUM_CRC32C, 1, 1}, {CKSUM_CRC64NVME, 0, 1},
        {CKSUM_SHA1, 1, 0},  {CKSUM_SHA256, 1, 0}, {CKSUM_NONE, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(cksum_type_allowed(cases[i].alg, CKSUM_TYPE_COMPOSITE), cases[i].composite);
        assert_int_equal(cksum_type_allowed(cases[i].alg, CKSUM_TYPE_FULL_OBJECT), cases[i].full_object);
        assert_int_equal(cksum_type_allowed(cases[i].alg, CKSUM_TYPE_NONE), 0);
    }
}

/* An abandoned SHA context must be released by cksum_cleanup (LeakSanitizer watches). */
static void test_cleanup(void **state)
{
    (void)state;
    static const cksum_alg_t algs[] = ALL_ALGS;

    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        cksum_ctx_t c;
        uint8_t d[CKSUM_MAX_DIGEST_LEN];
        cksum_init(&c, algs[a]);
        cksum_update(&c, "abc", 3);
        cksum_cleanup(&c);
        cksum_cleanup(&c);
        cksum_init(&c, algs[a]);
        cksum_final(&c, d);
        cksum_cleanup(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_one_mib_pattern),
        cmocka_unit_test(test_crc_lengths_and_alignments),
        cmocka_unit_test(test_incremental_splits),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_base64_invalid),
        cmocka_unit_test(test_composite_format),
        cmocka_unit_test(test_combine),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_checksum_types),
        cmocka_unit_test(test_cleanup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
