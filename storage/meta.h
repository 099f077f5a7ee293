/* storage/meta.h -- the metadata store: a thin wrapper over RocksDB.
 *
 * DESIGN: the only file that includes rocksdb/c.h is meta.c, so the rest of
 * storage/ sees plain byte keys and values, synced batches and iterators. Every
 * write goes through a synced WriteBatch: concurrent synced writers are grouped
 * by RocksDB into one WAL write + fsync (group commit).
 */
#ifndef COFFER_META_H
#define COFFER_META_H

#include <stddef.h>

typedef struct meta meta_t;
typedef struct meta_batch meta_batch_t;
typedef struct meta_iter meta_iter_t;

/**
 * Opens the RocksDB database in dir, creating it (and dir) when dir is missing or
 * empty and may_create is set (else -ENOENT, nothing created but dir itself).
 * Refuses a non-empty dir that holds no RocksDB database, and a database without
 * the Coffer marker. *created is set to 1 when a fresh store was made.
 * Returns 0, or a negative errno with a reason in errbuf.
 */
int meta_open(const char *dir, int may_create, meta_t **out, int *created, char *errbuf, size_t errbuf_len);
/** Closes the database (flushing memtables is RocksDB's business: the WAL is synced already). */
void meta_close(meta_t *m);

/** Looks key up. Returns 0 with a value to release with meta_free, -ENOENT, or -EIO. */
int meta_get(meta_t *m, const void *key, size_t key_len, void **val, size_t *val_len);
/** Releases a value returned by meta_get. */
void meta_free(void *val);

/** Returns a new empty write batch (allocation failure aborts). */
meta_batch_t *meta_batch_new(void);
/** Adds a put to the batch (the bytes are copied). */
void meta_batch_put(meta_batch_t *b, const void *key, size_t key_len, const void *val, size_t val_len);
/** Adds a delete to the batch. */
void meta_batch_delete(meta_batch_t *b, const void *key, size_t key_len);
/** Applies the batch atomically with a synced WAL write. Returns 0 or -EIO. */
int meta_batch_write(meta_t *m, meta_batch_t *b);
void meta_batch_free(meta_batch_t *b);
/** Puts one key with a synced write. Returns 0 or -EIO. */
int meta_put_sync(meta_t *m, const void *key, size_t key_len, const void *val, size_t val_len);

/**
 * Returns an iterator over a consistent snapshot; when upper is not NULL the
 * iterator never goes to keys >= upper (the bytes are copied).
 */
meta_iter_t *meta_iter_new(meta_t *m, const void *upper, size_t upper_len);
/** Positions at the first key >= key. */
void meta_iter_seek(meta_iter_t *it, const void *key, size_t key_len);
void meta_iter_next(meta_iter_t *it);
/** Returns 1 while positioned on an entry. */
int meta_iter_valid(const meta_iter_t *it);
/** Returns the current key (valid until the iterator moves). */
const void *meta_iter_key(const meta_iter_t *it, size_t *len);
/** Returns the current value (valid until the iterator moves). */
const void *meta_iter_value(const meta_iter_t *it, size_t *len);
/** Returns 0, or -EIO when the walk ended because of an error rather than the end of the data. */
int meta_iter_status(const meta_iter_t *it);
void meta_iter_free(meta_iter_t *it);

#endif
