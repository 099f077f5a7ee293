/* auth/keys.c -- the credential table and the signing-key cache.
 *
 * DESIGN: credentials live in memory behind a read-write lock (lookups on
 * every request, changes rare). A generation counter bumps on every change,
 * and a cached signing key is trusted only while its generation is current,
 * so a removed key is refused on the very next request. Users and keys move
 * into the metadata store with issue 6; this interface stays. */
#include "auth/keys.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct keys_entry {
    keys_user_t user;
    struct keys_entry *next;
} keys_entry_t;

struct keys {
    pthread_rwlock_t lock;
    keys_entry_t *head; /* owned */
    _Atomic uint64_t generation;
};

keys_t *keys_create(void)
{
    keys_t *keys = calloc(1, sizeof(*keys));
    if (keys == NULL)
        abort();
    pthread_rwlock_init(&keys->lock, NULL);
    atomic_init(&keys->generation, 1);
    return keys;
}

void keys_destroy(keys_t *keys)
{
    if (keys == NULL)
        return;
    for (keys_entry_t *e = keys->head, *next; e != NULL; e = next) {
        next = e->next;
        explicit_bzero(e->user.secret, sizeof(e->user.secret));
        free(e);
    }
    pthread_rwlock_destroy(&keys->lock);
    free(keys);
}

static void canonical_id(const char *access_key, char out[65])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_Digest(access_key, strlen(access_key), md, &md_len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; ++i)
        sprintf(out + 2 * i, "%02x", md[i]);
}

int keys_add(keys_t *keys, const char *access_key, const char *secret, const char *name)
{
    if (access_key[0] == '\0' || secret[0] == '\0' || strlen(access_key) > 128 || strlen(secret) > 128 || strlen(name) > 63)
        return -EINVAL;
    keys_entry_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        abort();
    strcpy(e->user.access_key, access_key);
    strcpy(e->user.secret, secret);
    strcpy(e->user.name, name);
    canonical_id(access_key, e->user.canonical_id);
    keys_remove(keys, access_key);
    pthread_rwlock_wrlock(&keys->lock);
    e->next = keys->head;
    keys->head = e;
    atomic_fetch_add(&keys->generation, 1);
    pthread_rwlock_unlock(&keys->lock);
    return 0;
}

int keys_remove(keys_t *keys, const char *access_key)
{
    int ret = -ENOENT;
    pthread_rwlock_wrlock(&keys->lock);
    for (keys_entry_t **p = &keys->head; *p != NULL; p = &(*p)->next) {
        if (strcmp((*p)->user.access_key, access_key) == 0) {
            keys_entry_t *e = *p;
            *p = e->next;
            explicit_bzero(e->user.secret, sizeof(e->user.secret));
            free(e);
            ret = 0;
            break;
        }
    }
    atomic_fetch_add(&keys->generation, 1);
    pthread_rwlock_unlock(&keys->lock);
    return ret;
}

int keys_lookup(keys_t *keys, const char *access_key, keys_user_t *out)
{
    int ret = -ENOENT;
    pthread_rwlock_rdlock(&keys->lock);
    for (keys_entry_t *e = keys->head; e != NULL; e = e->next) {
        if (strcmp(e->user.access_key, access_key) == 0) {
            *out = e->user;
            ret = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&keys->lock);
    return ret;
}

static unsigned slot_of(const sigv4_auth_t *auth)
{
    unsigned h = 2166136261u; /* FNV-1a over key, date and region */
    for (const char *s = auth->access_key; *s != '\0'; ++s)
        h = (h ^ (unsigned char)*s) * 16777619u;
    for (const char *s = auth->date; *s != '\0'; ++s)
        h = (h ^ (unsigned char)*s) * 16777619u;
    for (const char *s = auth->region; *s != '\0'; ++s)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % SIGKEY_CACHE_SLOTS;
}

int sigkey_cache_get(sigkey_cache_t *cache, keys_t *keys, const sigv4_auth_t *auth, uint8_t key[SIGV4_KEY_LEN], keys_user_t *user)
{
    uint64_t gen = atomic_load(&keys->generation);
    unsigned i = slot_of(auth);
    if (cache->slots[i].generation == gen && strcmp(cache->slots[i].access_key, auth->access_key) == 0 &&
        strcmp(cache->slots[i].date, auth->date) == 0 && strcmp(cache->slots[i].region, auth->region) == 0) {
        memcpy(key, cache->slots[i].key, SIGV4_KEY_LEN);
        *user = cache->slots[i].user;
        return 0;
    }
    if (keys_lookup(keys, auth->access_key, user) != 0)
        return -ENOENT;
    sigv4_signing_key(user->secret, strlen(user->secret), auth->date, auth->region, auth->service, key);
    explicit_bzero(user->secret, sizeof(user->secret)); /* the signing key is all a request needs */
    cache->slots[i].generation = gen;
    strcpy(cache->slots[i].access_key, auth->access_key);
    strcpy(cache->slots[i].date, auth->date);
    strcpy(cache->slots[i].region, auth->region);
    memcpy(cache->slots[i].key, key, SIGV4_KEY_LEN);
    cache->slots[i].user = *user;
    return 0;
}
