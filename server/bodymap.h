/* server/bodymap.h -- keeps large request bodies out of the server's resident memory. */
#ifndef COFFER_BODYMAP_H
#define COFFER_BODYMAP_H

#define H2O_USE_LIBUV 0
#include <h2o.h>

/**
 * Drops the resident pages of every request body on this loop that h2o has
 * spilled into its mmap'd temp file. Call from the loop's own thread, often
 * (it is cheap when there is nothing to drop). Returns the number of buffers trimmed.
 */
int bodymap_trim(h2o_context_t *ctx);

#endif
