/* auth/keys.h -- who holds which access key, and a per-thread cache of SigV4 signing keys. */
#ifndef COFFER_KEYS_H
#define COFFER_KEYS_H

#include <stdint.h>

#include "auth/sigv4.h"

typedef struct keys keys_t;

typedef struct keys_user {
    char access_key[129];
    char secret[129];
    char name[64];         /* display name */
    char canonical_id[65]; /* stable hex id, shown as Owner/ID */
} keys_user_t;

keys_t *keys_create(void);
void keys_destroy(keys_t *keys);

/** Adds or replaces a credential. Returns 0, or -EINVAL for an empty or oversized key. */
int keys_add(keys_t *keys, const char *access_key, const char *secret, const char *name);

/** Removes a credential; signing keys cached for it stop working at once. Returns 0 or -ENOENT. */
int keys_remove(keys_t *keys, const char *access_key);

/** Copies the user holding access_key into out. Returns 0 or -ENOENT. */
int keys_lookup(keys_t *keys, const char *access_key, keys_user_t *out);

/**
 * A small cache of derived signing keys, one per event-loop thread (no locking):
 * deriving one costs four HMACs, and a client signs every request with the same
 * key all day.
 */
#define SIGKEY_CACHE_SLOTS 16
typedef struct sigkey_cache {
    struct {
        uint64_t generation;
        char access_key[129];
        char date[9];
        char region[64];
        uint8_t key[SIGV4_KEY_LEN];
        keys_user_t user;
    } slots[SIGKEY_CACHE_SLOTS];
} sigkey_cache_t;

/**
 * Returns the signing key and user for auth's access key and scope: 0, or -ENOENT for an unknown key.
 * The user's secret is left empty: neither the cache nor the caller keeps it.
 */
int sigkey_cache_get(sigkey_cache_t *cache, keys_t *keys, const sigv4_auth_t *auth, uint8_t key[SIGV4_KEY_LEN], keys_user_t *user);

#endif
