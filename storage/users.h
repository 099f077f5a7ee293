/* storage/users.h -- users and their access keys in the metadata store.
 *
 * DESIGN: a user and an access key are one small record each, in key spaces
 * of their own (the record layouts are in users.c):
 *
 *   'W' name          user record: canonical id, e-mail, creation time
 *   'K' access-key    key record: owning user, secret, creation time, flags
 *
 * Users are few and change rarely, so lookups by canonical id or e-mail, the
 * uniqueness of e-mail addresses and "every key of a user" walk the records
 * instead of keeping index records that could drift. Every change is one
 * synced write batch, made under one process-wide lock so that "check the
 * name is free, then write" cannot interleave with another writer. A user's
 * canonical id comes from 32 random bytes when the user is created and is
 * never derived from anything else, so a removed user's id never comes back.
 *
 * The root user ("root") is an ordinary record made on the server's first
 * start; its configured key (COFFER_ROOT_ACCESS_KEY, or the key generated
 * into the settings) carries USERS_KEY_CONFIGURED and follows the
 * configuration: users_ensure_root() replaces it when the configuration
 * changes, and nobody can remove it by hand.
 */
#ifndef COFFER_USERS_H
#define COFFER_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define USERS_PREFIX_USER 'W'
#define USERS_PREFIX_KEY 'K'

#define USERS_NAME_MAX 64
#define USERS_ID_LEN 64 /* hex characters of a canonical id (32 random bytes) */
#define USERS_EMAIL_MAX 254
#define USERS_ACCESS_KEY_MIN 16
#define USERS_ACCESS_KEY_MAX 128
#define USERS_SECRET_MAX 128
#define USERS_GENERATED_ACCESS_KEY_LEN 20 /* as long as AWS's */
#define USERS_GENERATED_SECRET_LEN 40
#define USERS_ROOT "root"

/** Key flag: root's key from the server's configuration (environment or generated settings). */
#define USERS_KEY_CONFIGURED 1u

typedef struct users_user {
    char name[USERS_NAME_MAX + 1]; /* also the display name */
    char canonical_id[USERS_ID_LEN + 1];
    char email[USERS_EMAIL_MAX + 1]; /* "" when none */
    int64_t created_ns;
} users_user_t;

typedef struct users_key {
    char access_key[USERS_ACCESS_KEY_MAX + 1];
    char secret[USERS_SECRET_MAX + 1];
    char user[USERS_NAME_MAX + 1];
    int64_t created_ns;
    unsigned flags; /* USERS_KEY_* */
} users_key_t;

/** Whether name is 1-64 characters of [A-Za-z0-9_.@+=,-]. */
int users_name_valid(const char *name);
/** Whether email looks like an address: at most 254 printable ASCII characters, one '@' with text on both sides. */
int users_email_valid(const char *email);
/** Whether access_key is 16-128 characters of [A-Z0-9]. */
int users_access_key_valid(const char *access_key);
/** Whether secret is 1-128 printable ASCII characters (space included). */
int users_secret_valid(const char *secret);

/** Fills key->access_key (20 characters of [A-Z2-7]) and key->secret (40 of [A-Za-z0-9+/]) from the OpenSSL RNG. */
void users_generate_key(users_key_t *key);

/**
 * Creates user name (with e-mail email, NULL or "" for none) and, in the same synced batch,
 * its first access key when key is not NULL (key->user is ignored; created_ns 0 means now).
 * The canonical id is new. out (may be NULL) gets the user record.
 * Returns 0, -EINVAL (a name, e-mail, access key or secret that is not valid), -EEXIST (the
 * name, the e-mail address or the access key is taken) or -errno.
 */
int users_add(store_t *st, const char *name, const char *email, const users_key_t *key, users_user_t *out);

/** Looks user name up. Returns 0, -ENOENT, STORE_E_CORRUPT (a corrupt record) or -EIO. */
int users_get(store_t *st, const char *name, users_user_t *out);

/** Finds the user with canonical id (either case) or e-mail address (any case) who. Returns 0, -ENOENT or -EIO. */
int users_find(store_t *st, const char *who, users_user_t *out);

/** Calls fn for every user in name order; stops at fn's first non-zero value and returns it. Returns 0, fn's value,
 * STORE_E_CORRUPT or -EIO. */
int users_list(store_t *st, int (*fn)(void *ctx, const users_user_t *u), void *ctx);

/**
 * Removes user name and all its access keys in one synced batch; *num_keys (may be NULL) gets
 * how many keys went. Returns 0, -ENOENT, -EPERM (root) or -errno.
 */
int users_remove(store_t *st, const char *name, size_t *num_keys);

/**
 * Adds access key key->access_key to the existing user key->user (synced; created_ns 0 means
 * now). A configured key (USERS_KEY_CONFIGURED) may be any 1-128 printable characters.
 * Returns 0, -EINVAL, -ENOENT (no such user), -EEXIST (the access key is taken) or -errno.
 */
int users_key_put(store_t *st, const users_key_t *key);

/** Looks an access key up (secret included). Returns 0, -ENOENT, STORE_E_CORRUPT (a corrupt record) or -EIO. */
int users_key_get(store_t *st, const char *access_key, users_key_t *out);

/**
 * Removes an access key (synced); removed (may be NULL) gets its record with the secret wiped.
 * Returns 0, -ENOENT, -EPERM (root's configured key: change the configuration instead) or -errno.
 */
int users_key_remove(store_t *st, const char *access_key, users_key_t *removed);

/**
 * Calls fn for every access key of user (NULL: of every user) in access-key order, secrets
 * included: never log them. Stops at fn's first non-zero value and returns it. Returns 0,
 * fn's value, STORE_E_CORRUPT or -EIO.
 */
int users_key_list(store_t *st, const char *user, int (*fn)(void *ctx, const users_key_t *k), void *ctx);

/**
 * At server start: makes sure the root user exists (a new canonical id on first start) and
 * that access_key/secret is root's configured key, replacing the configured key of an earlier
 * configuration (*num_retired, may be NULL, gets how many were dropped). One synced batch.
 * root (may be NULL) gets root's record. Returns 0, -EINVAL (the key or secret is empty,
 * longer than 128 or not printable), -EEXIST (another user holds access_key) or -errno.
 */
int users_ensure_root(store_t *st, const char *access_key, const char *secret, users_user_t *root, size_t *num_retired);

/**
 * Opens only the metadata of a stopped server's store in meta_dir (never creating one), for the
 * users_ and users_key_ functions above and nothing else; close it with users_store_close.
 * Fails while a server runs on it (RocksDB's lock: the reason in errbuf names the lock).
 * Returns 0, -ENOENT (no store there) or -errno, with a reason in errbuf.
 */
int users_store_open(const char *meta_dir, store_t **out, char *errbuf, size_t errbuf_len);
/** Closes a store opened by users_store_open. */
void users_store_close(store_t *st);

/**
 * Reads root's configured key from meta_dir without taking its lock, so also while a server
 * runs on it (a read-only open: nothing in meta_dir is written). Returns 0, -ENOENT (no root
 * key recorded) or -errno, with a reason in errbuf.
 */
int users_read_root_key(const char *meta_dir, char access_key[USERS_ACCESS_KEY_MAX + 1], char secret[USERS_SECRET_MAX + 1],
                        char *errbuf, size_t errbuf_len);

#endif
