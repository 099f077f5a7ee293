/* storage/repair.c -- rewriting damaged or missing copies of a chunk from its good blocks.
 *
 * DESIGN: a chunk file is immutable, so a repair is a new write of the same
 * bytes under the same name, with the durability order of any chunk write
 * (blob.h): temp file, fdatasync, rename over the damaged file, fsync of the
 * fan-out directory. Readers that opened the damaged file keep their fd; new
 * ones see the good file. A repair can race with the chunk's last reference
 * being dropped (an overwrite or delete unlinks the files after its commit):
 * the reference is checked after the rename, and a chunk found unreferenced
 * then has the repaired files removed again, so no orphan is left whichever
 * order the two take. Two repairs of one copy at once cannot both write: the
 * temp file is created exclusively and the second gives up.
 */
#include "storage/store_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes len bytes of data as chunk id in d, durably, replacing what is there. Returns 0 or -errno. */
static int rewrite_copy(blob_dir_t *d, uint64_t id, const uint8_t *data, size_t len)
{
    blob_stage_t stage;
    struct iovec iov = {(void *)data, len};
    const char *op = "create";
    int ret = blob_stage_open(d, id, 0, &stage);
    if (ret == 0 && (op = "write", ret = blob_stage_write(&stage, &iov, 1)) == 0 &&
        (op = "fdatasync", ret = blob_stage_sync(&stage)) == 0 && (op = "rename", ret = blob_stage_rename(&stage)) == 0 &&
        (op = "fsync", ret = blob_sync_fanout(d, id)) == 0)
        return 0;
    if (ret != -EEXIST) {
        blob_note_error(d, op, stage.tmp_path, ret);
        blob_stage_abort(&stage);
    }
    return ret;
}

int store_chunk_repair(store_t *st, const store_chunk_ref_t *c, unsigned bad, unsigned *repaired)
{
    unsigned done = 0;
    uint8_t *data = malloc(c->len ? c->len : 1);
    store_copies_t cp;
    int ret = 0;
    if (data == NULL)
        abort();
    store_copies_init(st, c, &cp);
    for (uint32_t b = 0; b < c->num_blocks && ret == 0; b++) {
        size_t off = (size_t)b * STORE_READ_BLOCK, blen = c->len - off < STORE_READ_BLOCK ? c->len - off : STORE_READ_BLOCK;
        ret = store_copies_read_block(st, c, &cp, b, data + off, blen);
    }
    store_copies_close(&cp);
    for (unsigned k = 0; ret == 0 && k < c->place.num; k++) {
        if (!(bad & (1u << k)) || c->place.dirs[k] >= st->num_dirs)
            continue;
        blob_dir_t *d = &st->dirs[c->place.dirs[k]];
        if (!blob_dir_usable(d))
            continue;
        int r = rewrite_copy(d, c->id, data, c->len);
        if (r == 0) {
            done |= 1u << k;
            fprintf(stderr, "coffer: storage: chunk %016" PRIx64 ": copy in %s rewritten from the good copies\n", c->id, d->path);
        } else if (r != -EEXIST) {
            fprintf(stderr, "coffer: storage: chunk %016" PRIx64 ": rewriting the copy in %s: %s\n", c->id, d->path, strerror(-r));
        }
    }
    if (done != 0 && !store_chunk_referenced(st, c->id)) { /* freed meanwhile: leave no orphan */
        for (unsigned k = 0; k < c->place.num; k++)
            if (done & (1u << k))
                blob_unlink(&st->dirs[c->place.dirs[k]], c->id);
        done = 0;
    }
    if (repaired != NULL)
        *repaired = done;
    free(data);
    return ret;
}
