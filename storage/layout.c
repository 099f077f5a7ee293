/* storage/layout.c -- placement of new chunks over the data directories.
 *
 * DESIGN: see layout.h (weighted rendezvous hashing). Pure apart from reading
 * the failed and full marks; the capacity weights are measured once at open.
 */
#include "storage/layout.h"

#include <string.h>

/* splitmix64 finaliser: a fast, well-mixed 64-bit hash. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Natural log of u in (0,1), without libm: u = m * 2^e with m in [1,2), and
 * ln(m) = 2 atanh(z), z = (m-1)/(m+1) <= 1/3, whose series converges fast. */
static double ln_unit(double u)
{
    uint64_t bits;
    memcpy(&bits, &u, sizeof(bits));
    int e = (int)((bits >> 52) & 0x7FF) - 1023;
    bits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
    double m;
    memcpy(&m, &bits, sizeof(m));
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return e * 0.69314718055994530942 + 2 * sum;
}

static double score(const blob_dir_t *d, size_t index, uint64_t chunk_id)
{
    uint64_t h = mix64(chunk_id ^ mix64(index + 1));
    double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0; /* (0,1) */
    double w = d->capacity ? (double)d->capacity : 1.0;
    return w / -ln_unit(u);
}

size_t layout_rank(const blob_dir_t *dirs, size_t num_dirs, uint64_t chunk_id, uint16_t *order)
{
    double scores[num_dirs ? num_dirs : 1];
    size_t n = 0;

    for (size_t i = 0; i < num_dirs; i++) {
        if (!blob_dir_usable(&dirs[i]))
            continue;
        double s = score(&dirs[i], i, chunk_id);
        size_t j = n++;
        /* insertion sort: a handful of directories */
        while (j > 0 && scores[j - 1] < s) {
            scores[j] = scores[j - 1];
            order[j] = order[j - 1];
            j--;
        }
        scores[j] = s;
        order[j] = (uint16_t)i;
    }
    return n;
}
