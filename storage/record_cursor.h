/* storage/record_cursor.h -- the stored headers of the entries a listing returns, read in key order.
 *
 * DESIGN: store_object_list and store_upload_list hand out what every listing
 * needs (key, size, ETag, times), decoded from the record's fixed head only.
 * Some listings also show what a record's headers hold (the owner an object's
 * ACL names, the user who initiated an upload). Looking each entry up again
 * would cost a point read and a copy of the record per entry; instead a cursor
 * walks the same records with an iterator of its own, forward only, in step
 * with the listing's callbacks: an entry next to the previous one is one
 * iterator step away, one after a skipped common prefix one seek away. The
 * cursor opens its snapshot on first use, i.e. just after the listing's own:
 * an entry changed or deleted in between reads as its newer self, or as absent.
 */
#ifndef COFFER_RECORD_CURSOR_H
#define COFFER_RECORD_CURSOR_H

#include <stddef.h>

#include "storage/store.h"

typedef struct store_cursor store_cursor_t;

/** Which records a cursor walks. */
typedef enum store_cursor_kind {
    STORE_CURSOR_OBJECTS, /* a bucket's objects, in store_object_list's order */
    STORE_CURSOR_UPLOADS, /* a bucket's unfinished uploads, in store_upload_list's order */
} store_cursor_kind_t;

/** A cursor over bucket's records of one kind (allocation failure aborts); nothing is read before the first find. */
store_cursor_t *store_cursor_new(store_t *st, const char *bucket, store_cursor_kind_t kind);

/**
 * Moves an objects cursor to object key. Keys must come in ascending order (as a listing hands
 * them out). Returns 0 when the cursor is on the object's record, -ENOENT when the object is not
 * there (or the key cannot be one), or -EIO.
 */
int store_cursor_find_object(store_cursor_t *c, const char *key, size_t key_len);

/** As store_cursor_find_object, for an uploads cursor: the upload upload_id (as listed) of key. */
int store_cursor_find_upload(store_cursor_t *c, const char *key, size_t key_len, const char *upload_id);

/**
 * The value of header name in the record the last successful find reached: its bytes (valid until
 * the cursor moves) with *value_len, or NULL when the record has no such header or is corrupt.
 */
const char *store_cursor_header(const store_cursor_t *c, const char *name, size_t name_len, size_t *value_len);

void store_cursor_free(store_cursor_t *c);

#endif
