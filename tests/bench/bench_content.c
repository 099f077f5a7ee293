/* tests/bench/bench_content.c -- the bytes of a benchmark object.
 *
 * DESIGN: splitmix64 of (seed, word index) gives each 8-byte word, so any
 * range of an object can be produced without the bytes before it; the seed is
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

void bench_gen_bytes(uint64_t seed, uint64_t off, uint8_t *buf, size_t len)
{
    while (len > 0) {
        uint64_t w = mix64(seed ^ (off >> 3) * 0xd1342543de82ef95ULL);
        size_t skip = off & 7, n = 8 - skip;

        if (n > len)
            n = len;
        if (n == 8) {
            memcpy(buf, &w, 8);
        } else {
            uint8_t tmp[8];
            memcpy(tmp, &w, 8);
            memcpy(buf, tmp + skip, n);
        }
        buf += n;
        off += n;
        len -= n;
    }
}
