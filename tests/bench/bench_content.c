/* tests/bench/bench_content.c -- the bytes of a benchmark object.
 *
 * DESIGN: splitmix64 of (seed, line index) gives each 64-byte line, and each of
 * its eight words is that value xor a constant of its own, so any range of an
 * object can be produced without the bytes before it, at a small share of a core
 * (the generator shares the machine with the server it measures); the seed is
 * FNV-1a of the object's name. See bench_content.h. */
#include "bench_content.h"

#include <string.h>

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t bench_name_seed(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h;
}

/* Word wi of the object: one splitmix64 per 64-byte line, spread over its eight words. */
static uint64_t gen_word(uint64_t seed, uint64_t wi)
{
    return mix64(seed ^ (wi >> 3) * 0xd1342543de82ef95ULL) ^ (wi & 7) * 0x9e3779b97f4a7c15ULL;
}

void bench_gen_bytes(uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
    while (len > 0 && (off & 63) != 0) { /* up to the next line, a word or part of one at a time */
        uint64_t w = gen_word(seed, off >> 3);
        size_t skip = off & 7, n = 8 - skip;
        uint8_t tmp[8];

        if (n > len)
            n = len;
        memcpy(tmp, &w, 8);
        memcpy(buf, tmp + skip, n);
        buf += n;
        off += n;
        len -= n;
    }
    for (; len >= 64; buf += 64, off += 64, len -= 64) { /* whole lines: one mix per 64 bytes */
        uint64_t h = mix64(seed ^ (off >> 6) * 0xd1342543de82ef95ULL);
        for (uint64_t j = 0; j < 8; j++) {
            uint64_t w = h ^ j * 0x9e3779b97f4a7c15ULL;
            memcpy(buf + 8 * j, &w, 8);
        }
    }
    if (len > 0) { /* the last line's first bytes */
        uint8_t tmp[64];
        bench_gen_bytes(seed, off, tmp, 64);
        memcpy(buf, tmp, len);
    }
}
