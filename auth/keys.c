/* auth/keys.c -- the credential table and the signing-key cache.
 *
 * DESIGN: credentials live in memory behind a read-write lock (lookups on
 * every request, changes rare). A generation counter bumps on every change,
 * and a cached signing key is trusted only while its generation is current,
 * so a removed key is refused on the very next request, on every event loop.
 * The table holds users too, keys or not, so that grantees and owners
 * resolve by canonical id, e-mail or name, each caller saying which. The
 * metadata store is the truth (storage/users.h); this table is its
 * in-memory mirror. */
#include "auth/keys.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct keys_entry {
    keys_user_t user;
    struct keys_entry *next;
} keys_entry_t;

typedef struct keys_ident {
    keys_user_t user; /* access_key and secret empty */
    struct keys_ident *next;
} keys_ident_t;

struct keys {
    pthread_rwlock_t lock;
    keys_entry_t *head;  /* owned: the credentials */
    keys_ident_t *users; /* owned: every known user */
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

static void free_entry(keys_entry_t *e)
{
    explicit_bzero(e->user.secret, sizeof(e->user.secret));
    free(e);
}

void keys_destroy(keys_t *keys)
{
    if (keys == NULL)
        return;
    for (keys_entry_t *e = keys->head, *next; e != NULL; e = next) {
        next = e->next;
        free_entry(e);
    }
    for (keys_ident_t *u = keys->users, *next; u != NULL; u = next) {
        next = u->next;
        free(u);
    }
    pthread_rwlock_destroy(&keys->lock);
    free(keys);
}

static int fits(const char *s, size_t size, int may_be_empty)
{
    return s != NULL && (may_be_empty || s[0] != '\0') && strlen(s) < size;
}

/* Adds or updates a user. Caller holds the write lock. */
static void set_user_locked(keys_t *keys, const char *name, const char *canonical_id, const char *email)
{
    keys_ident_t *u = keys->users;
    while (u != NULL && strcmp(u->user.name, name) != 0)
        u = u->next;
    if (u == NULL) {
        if ((u = calloc(1, sizeof(*u))) == NULL)
            abort();
        strcpy(u->user.name, name);
        u->next = keys->users;
        keys->users = u;
    }
    strcpy(u->user.canonical_id, canonical_id);
    strcpy(u->user.email, email);
}

/* Unlinks and frees the credential for access_key. Caller holds the write lock. Returns 0 or -ENOENT. */
static int remove_locked(keys_t *keys, const char *access_key)
{
    for (keys_entry_t **p = &keys->head; *p != NULL; p = &(*p)->next) {
        if (strcmp((*p)->user.access_key, access_key) == 0) {
            keys_entry_t *e = *p;
            *p = e->next;
            free_entry(e);
            return 0;
        }
    }
    return -ENOENT;
}

int keys_set_user(keys_t *keys, const char *name, const char *canonical_id, const char *email)
{
    keys_user_t *u = NULL;
    if (email == NULL)
        email = "";
    if (!fits(name, sizeof(u->name), 0) || !fits(canonical_id, sizeof(u->canonical_id), 0) || !fits(email, sizeof(u->email), 1))
        return -EINVAL;
    pthread_rwlock_wrlock(&keys->lock);
    set_user_locked(keys, name, canonical_id, email);
    for (keys_entry_t *e = keys->head; e != NULL; e = e->next) {
        if (strcmp(e->user.name, name) == 0) {
            strcpy(e->user.canonical_id, canonical_id);
            strcpy(e->user.email, email);
        }
    }
    atomic_fetch_add(&keys->generation, 1);
    pthread_rwlock_unlock(&keys->lock);
    return 0;
}

int keys_add(keys_t *keys, const char *access_key, const char *secret, const char *name, const char *canonical_id,
             const char *email)
{
    if (email == NULL)
        email = "";
    keys_entry_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        abort();
    if (!fits(access_key, sizeof(e->user.access_key), 0) || !fits(secret, sizeof(e->user.secret), 0) ||
        !fits(name, sizeof(e->user.name), 0) || !fits(canonical_id, sizeof(e->user.canonical_id), 0) ||
        !fits(email, sizeof(e->user.email), 1)) {
        free(e);
        return -EINVAL;
    }
    strcpy(e->user.access_key, access_key);
    strcpy(e->user.secret, secret);
    strcpy(e->user.name, name);
    strcpy(e->user.canonical_id, canonical_id);
    strcpy(e->user.email, email);
    pthread_rwlock_wrlock(&keys->lock);
    set_user_locked(keys, name, canonical_id, email);
    remove_locked(keys, access_key);
    e->next = keys->head;
    keys->head = e;
    atomic_fetch_add(&keys->generation, 1);
    pthread_rwlock_unlock(&keys->lock);
    return 0;
}

int keys_remove(keys_t *keys, const char *access_key)
{
    pthread_rwlock_wrlock(&keys->lock);
    int ret = remove_locked(keys, access_key);
    atomic_fetch_add(&keys->generation, 1);
    pthread_rwlock_unlock(&keys->lock);
    return ret;
}

int keys_remove_user(keys_t *keys, const char *name)
{
    int ret = -ENOENT, num = 0;
    pthread_rwlock_wrlock(&keys->lock);
    for (keys_entry_t **p = &keys->head; *p != NULL;) {
        if (strcmp((*p)->user.name, name) == 0) {
            keys_entry_t *e = *p;
            *p = e->next;
            free_entry(e);
            num++;
        } else {
            p = &(*p)->next;
        }
    }
    for (keys_ident_t **p = &keys->users; *p != NULL; p = &(*p)->next) {
        if (strcmp((*p)->user.name, name) == 0) {
            keys_ident_t *u = *p;
            *p = u->next;
            free(u);
            ret = 0;
            break;
        }
    }
    atomic_fetch_add(&keys->generation, 1);
    pthread_rwlock_unlock(&keys->lock);
    return ret == 0 || num != 0 ? num : ret;
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

/* Whether u's field named by the one KEYS_BY_* bit `field` is who. */
static int user_is(const keys_user_t *u, unsigned field, const char *who)
{
    switch (field) {
    case KEYS_BY_ID:
        return strcasecmp(u->canonical_id, who) == 0;
    case KEYS_BY_EMAIL:
        return u->email[0] != '\0' && strcasecmp(u->email, who) == 0;
    default:
        return strcmp(u->name, who) == 0;
    }
}

int keys_find_user_by(keys_t *keys, unsigned by, const char *who, keys_user_t *out)
{
    static const unsigned precedence[] = {KEYS_BY_ID, KEYS_BY_EMAIL, KEYS_BY_NAME};
    int ret = -ENOENT;
    if (who == NULL || who[0] == '\0')
        return ret;
    pthread_rwlock_rdlock(&keys->lock);
    for (size_t i = 0; i < sizeof(precedence) / sizeof(precedence[0]) && ret != 0; i++) {
        if (!(by & precedence[i]))
            continue;
        for (keys_ident_t *u = keys->users; u != NULL && ret != 0; u = u->next) {
            if (user_is(&u->user, precedence[i], who)) {
                *out = u->user;
                ret = 0;
            }
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
