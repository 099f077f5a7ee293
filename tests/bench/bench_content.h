/* tests/bench/bench_content.h -- the bytes of a benchmark object.
 *
 * DESIGN: byte i of an object is a pure function of (object name, i), so
 * uploads need no stored data and downloads can be checked on the fly. Every
 * mode of coffer-bench and every file it writes for a yardstick server uses
 * these two functions, so they all agree on the content. */
#ifndef COFFER_BENCH_CONTENT_H
#define COFFER_BENCH_CONTENT_H

#include <stddef.h>
#include <stdint.h>

/** Returns the content seed of an object: FNV-1a of its name. */
uint64_t bench_name_seed(const char *name);

/** Fills buf with bytes [off, off+len) of the object seeded with seed (splitmix64 over 64-byte lines). */
void bench_gen_bytes(uint64_t seed, uint64_t off, uint8_t *buf, size_t len);

#endif
