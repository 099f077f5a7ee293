/* storage/layout.h -- where a new chunk goes.
 *
 * DESIGN: weighted rendezvous hashing. Each data directory scores a chunk id
 * with w / -ln(u), where u in (0,1) is a hash of (chunk id, directory index)
 * and w the directory's capacity; directories are ranked by score. The first
 * choice is then deterministic from the chunk id, chunks spread over all
 * directories in proportion to capacity, and adding a directory only moves the
 * share that directory wins. Failed and full directories are left out.
 */
#ifndef COFFER_LAYOUT_H
#define COFFER_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/blob.h"

/**
 * Ranks the usable (not failed, not full) directories for chunk_id, best first, into
 * order (room for num_dirs entries). Returns how many were ranked (0 = none usable).
 */
size_t layout_rank(const blob_dir_t *dirs, size_t num_dirs, uint64_t chunk_id, uint16_t *order);

#endif
