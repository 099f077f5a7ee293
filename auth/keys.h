/* auth/keys.h -- who holds which access key, and a per-thread cache of SigV4 signing keys.
 *
 * The table mirrors the users and keys of the metadata store (storage/users.h): the server
 * loads it at start and the admin endpoint changes it right after each synced store change. */
#ifndef COFFER_KEYS_H
#define COFFER_KEYS_H

#include <stdint.h>

#include "auth/sigv4.h"

typedef struct keys keys_t;

typedef struct keys_user {
    char access_key[129];  /* the key the request was signed with; "" from keys_find_user_by */
    char secret[129];      /* "" wherever it is not needed (see sigkey_cache_get) */
    char name[65];         /* the user's name, also its display name */
    char canonical_id[65]; /* the user's stable id (64 lower-hex characters), shown as Owner/ID */
    char email[255];       /* "" when the user has none */
} keys_user_t;

keys_t *keys_create(void);
void keys_destroy(keys_t *keys);

/**
 * Registers a user (with or without keys) so that keys_find_user_by knows it, or updates its
 * canonical id and e-mail (email NULL or "" for none). Returns 0, or -EINVAL for an empty or
 * oversized field.
 */
int keys_set_user(keys_t *keys, const char *name, const char *canonical_id, const char *email);

/**
 * Adds or replaces a credential of user name, registering the user as keys_set_user does.
 * Returns 0, or -EINVAL for an empty or oversized field.
 */
int keys_add(keys_t *keys, const char *access_key, const char *secret, const char *name, const char *canonical_id,
             const char *email);

/** Removes a credential; signing keys cached for it stop working at once. Returns 0 or -ENOENT. */
int keys_remove(keys_t *keys, const char *access_key);

/**
 * Forgets user name and every credential it holds; cached signing keys stop working at once.
 * Returns how many credentials went, or -ENOENT when the user was not known.
 */
int keys_remove_user(keys_t *keys, const char *name);

/** Copies the user holding access_key into out. Returns 0 or -ENOENT. */
int keys_lookup(keys_t *keys, const char *access_key, keys_user_t *out);

/** What keys_find_user_by compares who with; any combination. */
enum {
    KEYS_BY_ID = 1,    /* the canonical id, either case */
    KEYS_BY_EMAIL = 2, /* the e-mail address, any case */
    KEYS_BY_NAME = 4,  /* the name, exactly */
};

/**
 * Finds the user whose field named in by (KEYS_BY_*) is who: out gets name, canonical id and
 * e-mail, with access_key and secret empty. A user name may be 64 hex digits or hold an '@', so
 * one string can name several users; the canonical id wins, then the e-mail address, then the
 * name. Returns 0 or -ENOENT.
 */
int keys_find_user_by(keys_t *keys, unsigned by, const char *who, keys_user_t *out);

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
