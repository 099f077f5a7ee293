/* storage/meta.c -- RocksDB behind a small interface.
 *
 * DESIGN: one RocksDB database, bytewise comparator (the default), WAL on.
 * Writes that matter are synced (WriteOptions.sync = true); RocksDB batches the
 * WAL appends and the fsync of concurrent writers into one group commit, which
 * is what lets many PUTs per second share a disk flush. Tuning: a shared LRU
 * block cache, full bloom filters (point lookups of object keys dominate), and
 * two background jobs for flush/compaction.
 *
 * Safety of open: a store is recognised by a marker key written when it is
 * created. A directory that has files but no RocksDB CURRENT file is refused
 * rather than turned into an empty database (a wrong path must not look like
 * an empty store).
 */
#include "storage/meta.h"
#include "storage/fsdir.h"
#include "storage/codec.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/c.h>

#define META_BLOCK_CACHE_BYTES (32u * 1024 * 1024) /* the OS page cache holds the rest of the SST files */

struct meta {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table_opts;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *filter; /* owned by table_opts once set */
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts_sync;
};

struct meta_batch {
    rocksdb_writebatch_t *wb;
};

struct meta_iter {
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *ropts;
    char *upper; /* owned: must outlive the iterator */
};

/* Returns 1 when dir holds any entry besides . and .., 0 when empty, -errno on error. */
static int dir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (d == NULL)
        return -errno;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            found = 1;
            break;
        }
    }
    closedir(d);
    return found;
}

/* Returns 1 when the database holds no key at all. */
static int db_is_empty(meta_t *m)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator(m->db, m->ropts);
    rocksdb_iter_seek_to_first(it);
    int empty = !rocksdb_iter_valid(it);
    rocksdb_iter_destroy(it);
    return empty;
}

static void free_parts(meta_t *m)
{
    if (m->db)
        rocksdb_close(m->db);
    if (m->ropts)
        rocksdb_readoptions_destroy(m->ropts);
    if (m->wopts_sync)
        rocksdb_writeoptions_destroy(m->wopts_sync);
    if (m->opts)
        rocksdb_options_destroy(m->opts);
    if (m->table_opts)
        rocksdb_block_based_options_destroy(m->table_opts);
    if (m->cache)
        rocksdb_cache_destroy(m->cache);
    free(m);
}

int meta_open(const char *dir, int may_create, meta_t **out, int *created, char *errbuf, size_t errbuf_len)
{
    meta_t *m = calloc(1, sizeof(*m));
    char *err = NULL, path[4096];
    struct stat sb;
    int ret, fresh = 0;

    if (m == NULL)
        abort();
    if ((ret = fsdir_make_parents(dir)) != 0) {
        snprintf(errbuf, errbuf_len, "metadata directory %s: mkdir: %s", dir, strerror(-ret));
        goto Fail;
    }
    snprintf(path, sizeof(path), "%s/CURRENT", dir);
    if (stat(path, &sb) != 0) {
        if ((ret = dir_has_entries(dir)) < 0) {
            snprintf(errbuf, errbuf_len, "metadata directory %s: opendir: %s", dir, strerror(-ret));
            goto Fail;
        }
        if (ret > 0) {
            snprintf(errbuf, errbuf_len,
                     "metadata directory %s is not empty but holds no RocksDB database (no CURRENT file); "
                     "refusing to create a store there",
                     dir);
            ret = -EINVAL;
            goto Fail;
        }
        if (!may_create) {
            snprintf(errbuf, errbuf_len, "metadata directory %s holds no database", dir);
            ret = -ENOENT;
            goto Fail;
        }
        fresh = 1;
    }

    m->cache = rocksdb_cache_create_lru(META_BLOCK_CACHE_BYTES);
    m->table_opts = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(m->table_opts, m->cache);
    m->filter = rocksdb_filterpolicy_create_bloom_full(10);
    rocksdb_block_based_options_set_filter_policy(m->table_opts, m->filter);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(m->table_opts, 1);
    m->opts = rocksdb_options_create();
    rocksdb_options_set_block_based_table_factory(m->opts, m->table_opts);
    rocksdb_options_set_create_if_missing(m->opts, fresh);
    rocksdb_options_set_max_background_jobs(m->opts, 2);
    rocksdb_options_set_bytes_per_sync(m->opts, 1 << 20);
    /* Small objects live in the memtable until flushed: 16 MiB x 3 bounds that memory
     * (RocksDB's default 64 MiB x 2 made the server's RSS grow by 128 MiB). */
    rocksdb_options_set_write_buffer_size(m->opts, 16 << 20);
    rocksdb_options_set_max_write_buffer_number(m->opts, 3);
    m->ropts = rocksdb_readoptions_create();
    m->wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(m->wopts_sync, 1);

    m->db = rocksdb_open(m->opts, dir, &err);
    if (err != NULL) {
        snprintf(errbuf, errbuf_len, "metadata directory %s: cannot open RocksDB: %s", dir, err);
        rocksdb_free(err);
        ret = -EIO;
        goto Fail;
    }
    if (!fresh && db_is_empty(m))
        fresh = 1; /* a crash came between creating the database and writing its marker */
    if (fresh) {
        ret = meta_put_sync(m, CODEC_KEY_MARKER, 1, CODEC_MARKER_VALUE, strlen(CODEC_MARKER_VALUE));
        if (ret != 0) {
            snprintf(errbuf, errbuf_len, "metadata directory %s: writing the store marker failed", dir);
            goto Fail;
        }
    } else {
        void *val = NULL;
        size_t len = 0;
        ret = meta_get(m, CODEC_KEY_MARKER, 1, &val, &len);
        int ok = ret == 0 && len == strlen(CODEC_MARKER_VALUE) && memcmp(val, CODEC_MARKER_VALUE, len) == 0;
        meta_free(val);
        if (!ok) {
            snprintf(errbuf, errbuf_len, "metadata directory %s holds a RocksDB database that is not a Coffer store (%s)", dir,
                     ret == -ENOENT ? "no marker"
                     : ret == 0     ? "unknown marker version"
                                    : "marker unreadable");
            ret = -EINVAL;
            goto Fail;
        }
    }
    *created = fresh;
    *out = m;
    return 0;

Fail:
    free_parts(m);
    return ret != 0 ? ret : -EIO;
}

void meta_close(meta_t *m)
{
    if (m != NULL)
        free_parts(m);
}

int meta_get(meta_t *m, const void *key, size_t key_len, void **val, size_t *val_len)
{
    char *err = NULL;
    char *v = rocksdb_get(m->db, m->ropts, key, key_len, val_len, &err);
    if (err != NULL) {
        fprintf(stderr, "coffer: storage: rocksdb get: %s\n", err);
        rocksdb_free(err);
        return -EIO;
    }
    if (v == NULL)
        return -ENOENT;
    *val = v;
    return 0;
}

void meta_free(void *val)
{
    if (val != NULL)
        rocksdb_free(val);
}

meta_batch_t *meta_batch_new(void)
{
    meta_batch_t *b = malloc(sizeof(*b));
    if (b == NULL)
        abort();
    b->wb = rocksdb_writebatch_create();
    return b;
}

void meta_batch_put(meta_batch_t *b, const void *key, size_t key_len, const void *val, size_t val_len)
{
    rocksdb_writebatch_put(b->wb, key, key_len, val, val_len);
}

void meta_batch_delete(meta_batch_t *b, const void *key, size_t key_len)
{
    rocksdb_writebatch_delete(b->wb, key, key_len);
}

int meta_batch_write(meta_t *m, meta_batch_t *b)
{
    char *err = NULL;
    rocksdb_write(m->db, m->wopts_sync, b->wb, &err);
    if (err != NULL) {
        fprintf(stderr, "coffer: storage: rocksdb synced write: %s\n", err);
        rocksdb_free(err);
        return -EIO;
    }
    return 0;
}

void meta_batch_free(meta_batch_t *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

int meta_put_sync(meta_t *m, const void *key, size_t key_len, const void *val, size_t val_len)
{
    meta_batch_t *b = meta_batch_new();
    meta_batch_put(b, key, key_len, val, val_len);
    int ret = meta_batch_write(m, b);
    meta_batch_free(b);
    return ret;
}

meta_iter_t *meta_iter_new(meta_t *m, const void *upper, size_t upper_len)
{
    meta_iter_t *it = calloc(1, sizeof(*it));
    if (it == NULL)
        abort();
    it->ropts = rocksdb_readoptions_create();
    if (upper != NULL) {
        it->upper = malloc(upper_len ? upper_len : 1);
        if (it->upper == NULL)
            abort();
        memcpy(it->upper, upper, upper_len);
        rocksdb_readoptions_set_iterate_upper_bound(it->ropts, it->upper, upper_len);
    }
    it->it = rocksdb_create_iterator(m->db, it->ropts);
    return it;
}

void meta_iter_seek(meta_iter_t *it, const void *key, size_t key_len)
{
    rocksdb_iter_seek(it->it, key, key_len);
}

void meta_iter_next(meta_iter_t *it)
{
    rocksdb_iter_next(it->it);
}

int meta_iter_valid(const meta_iter_t *it)
{
    return rocksdb_iter_valid(it->it) != 0;
}

const void *meta_iter_key(const meta_iter_t *it, size_t *len)
{
    return rocksdb_iter_key(it->it, len);
}

const void *meta_iter_value(const meta_iter_t *it, size_t *len)
{
    return rocksdb_iter_value(it->it, len);
}

int meta_iter_status(const meta_iter_t *it)
{
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    if (err != NULL) {
        fprintf(stderr, "coffer: storage: rocksdb iterator: %s\n", err);
        rocksdb_free(err);
        return -EIO;
    }
    return 0;
}

void meta_iter_free(meta_iter_t *it)
{
    if (it == NULL)
        return;
    rocksdb_iter_destroy(it->it);
    rocksdb_readoptions_destroy(it->ropts);
    free(it->upper);
    free(it);
}
