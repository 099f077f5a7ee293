/* storage/users.c -- user and access-key records. See users.h.
 *
 * DESIGN: records (integers little-endian; strings are length-prefixed bytes):
 *
 *   'W' name   -> u8 version(1) | i64 created_ns | u8 canonical_id[32] | u8 email_len email
 *   'K' akey   -> u8 version(1) | u8 flags | i64 created_ns | u8 user_len user | u8 secret_len secret
 *
 * Decoders check every length against the record: a corrupt record is STORE_E_CORRUPT, never a crash.
 * Writers take users_lock for the whole of check-then-write, so two requests cannot both
 * find a name free; readers need no lock (RocksDB reads and iterators see consistent data).
 */
#include "storage/users.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rocksdb/c.h> /* users_read_root_key only: see there */

#include "storage/codec.h"
#include "storage/meta.h"
#include "storage/store_internal.h"

#define USER_RECORD_VERSION 1
#define KEY_RECORD_VERSION 1
#define USER_ID_BYTES 32
#define USER_KEY_MAX (1 + USERS_NAME_MAX)
#define KEY_KEY_MAX (1 + USERS_ACCESS_KEY_MAX)
#define USER_RECORD_MAX (1 + 8 + USER_ID_BYTES + 1 + USERS_EMAIL_MAX)
#define KEY_RECORD_MAX (1 + 1 + 8 + 1 + USERS_NAME_MAX + 1 + USERS_SECRET_MAX)

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------------ validation */

int users_name_valid(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > USERS_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!isalnum((unsigned char)c) && strchr("_.@+=,-", c) == NULL)
            return 0;
    }
    return 1;
}

int users_email_valid(const char *email)
{
    size_t len = email != NULL ? strlen(email) : 0;
    const char *at = len != 0 ? strchr(email, '@') : NULL;
    if (len < 3 || len > USERS_EMAIL_MAX || at == NULL || at == email || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (email[i] <= ' ' || email[i] > '~')
            return 0;
    }
    return 1;
}

int users_access_key_valid(const char *access_key)
{
    size_t len = access_key != NULL ? strlen(access_key) : 0;
    if (len < USERS_ACCESS_KEY_MIN || len > USERS_ACCESS_KEY_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = access_key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* Root's configured key comes from the environment or older stores: anything the server took before users existed. */
static int configured_key_valid(const char *access_key)
{
    size_t len = access_key != NULL ? strlen(access_key) : 0;
    if (len == 0 || len > USERS_ACCESS_KEY_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (access_key[i] <= ' ' || access_key[i] > '~')
            return 0;
    }
    return 1;
}

int users_secret_valid(const char *secret)
{
    size_t len = secret != NULL ? strlen(secret) : 0;
    if (len == 0 || len > USERS_SECRET_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (secret[i] < ' ' || secret[i] > '~')
            return 0;
    }
    return 1;
}

static int key_valid(const users_key_t *k)
{
    int ak_ok = (k->flags & USERS_KEY_CONFIGURED) ? configured_key_valid(k->access_key) : users_access_key_valid(k->access_key);
    return ak_ok && users_secret_valid(k->secret);
}

static void random_chars(char *out, size_t len, const char *alphabet)
{
    size_t n = strlen(alphabet); /* 32 or 64: a random byte modulo n has no bias */
    unsigned char rnd[64];
    if (len > sizeof(rnd) || RAND_bytes(rnd, (int)len) != 1)
        abort();
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[rnd[i] % n];
    out[len] = '\0';
    explicit_bzero(rnd, sizeof(rnd));
}

void users_generate_key(users_key_t *key)
{
    random_chars(key->access_key, USERS_GENERATED_ACCESS_KEY_LEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    random_chars(key->secret, USERS_GENERATED_SECRET_LEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
}

/* ------------------------------------------------------------------ records */

static size_t user_key(uint8_t *out, const char *name)
{
    size_t len = strlen(name);
    out[0] = USERS_PREFIX_USER;
    memcpy(out + 1, name, len);
    return 1 + len;
}

static size_t key_key(uint8_t *out, const char *access_key)
{
    size_t len = strlen(access_key);
    out[0] = USERS_PREFIX_KEY;
    memcpy(out + 1, access_key, len);
    return 1 + len;
}

static void put_i64(uint8_t *p, int64_t v)
{
    codec_put_u64(p, (uint64_t)v);
}

static int64_t get_i64(const uint8_t *p)
{
    uint64_t v = 0;
    codec_get_u64(p, 8, &v);
    return (int64_t)v;
}

static size_t put_str(uint8_t *p, const char *s)
{
    size_t len = strlen(s);
    p[0] = (uint8_t)len;
    memcpy(p + 1, s, len);
    return 1 + len;
}

/* Reads a length-prefixed string of at most max bytes at *pos into out. Returns 0 or -EINVAL. */
static int get_str(const uint8_t *rec, size_t len, size_t *pos, char *out, size_t max)
{
    if (*pos >= len)
        return -EINVAL;
    size_t n = rec[*pos];
    if (n > max || *pos + 1 + n > len || memchr(rec + *pos + 1, '\0', n) != NULL)
        return -EINVAL;
    memcpy(out, rec + *pos + 1, n);
    out[n] = '\0';
    *pos += 1 + n;
    return 0;
}

static void hex_id(const uint8_t id[USER_ID_BYTES], char out[USERS_ID_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < USER_ID_BYTES; i++) {
        out[2 * i] = digits[id[i] >> 4];
        out[2 * i + 1] = digits[id[i] & 15];
    }
    out[USERS_ID_LEN] = '\0';
}

static int unhex_id(const char *hex, uint8_t id[USER_ID_BYTES])
{
    for (int i = 0; i < USERS_ID_LEN; i++) {
        int c = tolower((unsigned char)hex[i]), v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -EINVAL;
        id[i / 2] = (uint8_t)(i % 2 == 0 ? v << 4 : id[i / 2] | v);
    }
    return hex[USERS_ID_LEN] == '\0' ? 0 : -EINVAL;
}

static size_t user_encode(const users_user_t *u, uint8_t *rec)
{
    size_t n = 0;
    rec[n++] = USER_RECORD_VERSION;
    put_i64(rec + n, u->created_ns);
    n += 8;
    unhex_id(u->canonical_id, rec + n);
    n += USER_ID_BYTES;
    n += put_str(rec + n, u->email);
    return n;
}

static int user_decode(const uint8_t *ukey, size_t ukey_len, const uint8_t *rec, size_t len, users_user_t *u)
{
    size_t pos = 1 + 8 + USER_ID_BYTES;
    if (ukey_len < 2 || ukey_len > USER_KEY_MAX || len < pos || rec[0] != USER_RECORD_VERSION)
        return STORE_E_CORRUPT;
    memcpy(u->name, ukey + 1, ukey_len - 1);
    u->name[ukey_len - 1] = '\0';
    u->created_ns = get_i64(rec + 1);
    hex_id(rec + 1 + 8, u->canonical_id);
    if (get_str(rec, len, &pos, u->email, USERS_EMAIL_MAX) != 0 || pos != len)
        return STORE_E_CORRUPT;
    return 0;
}

static size_t key_encode(const users_key_t *k, uint8_t *rec)
{
    size_t n = 0;
    rec[n++] = KEY_RECORD_VERSION;
    rec[n++] = (uint8_t)k->flags;
    put_i64(rec + n, k->created_ns);
    n += 8;
    n += put_str(rec + n, k->user);
    n += put_str(rec + n, k->secret);
    return n;
}

static int key_decode(const uint8_t *kkey, size_t kkey_len, const uint8_t *rec, size_t len, users_key_t *k)
{
    size_t pos = 1 + 1 + 8;
    if (kkey_len < 2 || kkey_len > KEY_KEY_MAX || len < pos || rec[0] != KEY_RECORD_VERSION)
        return STORE_E_CORRUPT;
    memcpy(k->access_key, kkey + 1, kkey_len - 1);
    k->access_key[kkey_len - 1] = '\0';
    k->flags = rec[1];
    k->created_ns = get_i64(rec + 2);
    if (get_str(rec, len, &pos, k->user, USERS_NAME_MAX) != 0 || get_str(rec, len, &pos, k->secret, USERS_SECRET_MAX) != 0 ||
        pos != len)
        return STORE_E_CORRUPT;
    return 0;
}

/* Calls fn for every record under prefix (one snapshot). Returns 0, fn's first non-zero value, or -EIO. */
static int walk(meta_t *m, uint8_t prefix,
                int (*fn)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len), void *ctx)
{
    uint8_t upper = (uint8_t)(prefix + 1);
    meta_iter_t *it = meta_iter_new(m, &upper, 1);
    int ret = 0;
    for (meta_iter_seek(it, &prefix, 1); ret == 0 && meta_iter_valid(it); meta_iter_next(it)) {
        size_t key_len, val_len;
        const uint8_t *key = meta_iter_key(it, &key_len);
        const uint8_t *val = meta_iter_value(it, &val_len);
        ret = fn(ctx, key, key_len, val, val_len);
    }
    if (ret == 0)
        ret = meta_iter_status(it);
    meta_iter_free(it);
    return ret;
}

/* ------------------------------------------------------------------ users */

int users_get(store_t *st, const char *name, users_user_t *out)
{
    uint8_t key[USER_KEY_MAX];
    void *val = NULL;
    size_t val_len;
    if (!users_name_valid(name))
        return -ENOENT;
    size_t key_len = user_key(key, name);
    int ret = meta_get(st->meta, key, key_len, &val, &val_len);
    if (ret != 0)
        return ret;
    users_user_t u;
    ret = user_decode(key, key_len, val, val_len, &u);
    meta_free(val);
    if (ret == 0 && out != NULL)
        *out = u;
    return ret;
}

typedef struct list_users_ctx {
    int (*fn)(void *ctx, const users_user_t *u);
    void *ctx;
} list_users_ctx_t;

static int on_user_record(void *p, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    list_users_ctx_t *c = p;
    users_user_t u;
    int ret = user_decode(key, key_len, val, val_len, &u);
    return ret != 0 ? ret : c->fn(c->ctx, &u);
}

int users_list(store_t *st, int (*fn)(void *ctx, const users_user_t *u), void *ctx)
{
    list_users_ctx_t c = {fn, ctx};
    return walk(st->meta, USERS_PREFIX_USER, on_user_record, &c);
}

typedef struct find_ctx {
    const char *who;
    int by_id;
    users_user_t *out;
} find_ctx_t;

static int on_find(void *p, const users_user_t *u)
{
    find_ctx_t *c = p;
    int hit = c->by_id ? strcasecmp(u->canonical_id, c->who) == 0 : u->email[0] != '\0' && strcasecmp(u->email, c->who) == 0;
    if (!hit)
        return 0;
    if (c->out != NULL)
        *c->out = *u;
    return 1;
}

int users_find(store_t *st, const char *who, users_user_t *out)
{
    uint8_t id[USER_ID_BYTES];
    if (who == NULL || who[0] == '\0')
        return -ENOENT;
    find_ctx_t c = {who, strlen(who) == USERS_ID_LEN && unhex_id(who, id) == 0, out};
    int ret = users_list(st, on_find, &c);
    return ret == 1 ? 0 : ret == 0 ? -ENOENT : ret;
}

int users_add(store_t *st, const char *name, const char *email, const users_key_t *key, users_user_t *out)
{
    users_user_t u = {0};
    users_key_t k;
    uint8_t ukey[USER_KEY_MAX], urec[USER_RECORD_MAX], kkey[KEY_KEY_MAX], krec[KEY_RECORD_MAX], id[USER_ID_BYTES];
    int ret;

    if (email == NULL)
        email = "";
    if (!users_name_valid(name) || (email[0] != '\0' && !users_email_valid(email)) || (key != NULL && !key_valid(key)))
        return -EINVAL;
    snprintf(u.name, sizeof(u.name), "%s", name);
    snprintf(u.email, sizeof(u.email), "%s", email);
    if (RAND_bytes(id, sizeof(id)) != 1)
        abort();
    hex_id(id, u.canonical_id);
    u.created_ns = store_now_ns();

    pthread_mutex_lock(&users_lock);
    if ((ret = users_get(st, name, NULL)) != -ENOENT) {
        ret = ret == 0 ? -EEXIST : ret;
        goto Exit;
    }
    if (email[0] != '\0' && (ret = users_find(st, email, NULL)) != -ENOENT) {
        ret = ret == 0 ? -EEXIST : ret;
        goto Exit;
    }
    meta_batch_t *b = meta_batch_new();
    meta_batch_put(b, ukey, user_key(ukey, name), urec, user_encode(&u, urec));
    if (key != NULL) {
        k = *key;
        snprintf(k.user, sizeof(k.user), "%s", name);
        if (k.created_ns == 0)
            k.created_ns = u.created_ns;
        if ((ret = users_key_get(st, k.access_key, NULL)) != -ENOENT) {
            meta_batch_free(b);
            ret = ret == 0 || ret == STORE_E_CORRUPT ? -EEXIST : ret;
            goto Exit;
        }
        meta_batch_put(b, kkey, key_key(kkey, k.access_key), krec, key_encode(&k, krec));
        explicit_bzero(&k, sizeof(k));
    }
    ret = meta_batch_write(st->meta, b);
    meta_batch_free(b);
    explicit_bzero(krec, sizeof(krec));
Exit:
    pthread_mutex_unlock(&users_lock);
    if (ret == 0 && out != NULL)
        *out = u;
    return ret;
}

typedef struct remove_ctx {
    const char *user;
    meta_batch_t *batch;
    size_t num_keys;
} remove_ctx_t;

static int on_key_of_removed_user(void *p, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    remove_ctx_t *c = p;
    users_key_t k;
    if (key_decode(key, key_len, val, val_len, &k) == 0 && strcmp(k.user, c->user) == 0) {
        meta_batch_delete(c->batch, key, key_len);
        c->num_keys++;
    }
    explicit_bzero(k.secret, sizeof(k.secret));
    return 0;
}

int users_remove(store_t *st, const char *name, size_t *num_keys)
{
    uint8_t ukey[USER_KEY_MAX];
    int ret;
    if (!users_name_valid(name))
        return -ENOENT;
    pthread_mutex_lock(&users_lock);
    remove_ctx_t c = {name, meta_batch_new(), 0};
    if ((ret = users_get(st, name, NULL)) != 0)
        goto Exit;
    if (strcmp(name, USERS_ROOT) == 0) {
        ret = -EPERM;
        goto Exit;
    }
    meta_batch_delete(c.batch, ukey, user_key(ukey, name));
    if ((ret = walk(st->meta, USERS_PREFIX_KEY, on_key_of_removed_user, &c)) != 0)
        goto Exit;
    ret = meta_batch_write(st->meta, c.batch);
Exit:
    pthread_mutex_unlock(&users_lock);
    meta_batch_free(c.batch);
    if (num_keys != NULL)
        *num_keys = ret == 0 ? c.num_keys : 0;
    return ret;
}

/* ------------------------------------------------------------------ keys */

int users_key_get(store_t *st, const char *access_key, users_key_t *out)
{
    uint8_t key[KEY_KEY_MAX];
    void *val = NULL;
    size_t val_len;
    if (access_key == NULL || access_key[0] == '\0' || strlen(access_key) > USERS_ACCESS_KEY_MAX)
        return -ENOENT;
    size_t key_len = key_key(key, access_key);
    int ret = meta_get(st->meta, key, key_len, &val, &val_len);
    if (ret != 0)
        return ret;
    users_key_t k;
    ret = key_decode(key, key_len, val, val_len, &k);
    explicit_bzero(val, val_len);
    meta_free(val);
    if (ret == 0 && out != NULL)
        *out = k;
    explicit_bzero(k.secret, sizeof(k.secret));
    return ret;
}

int users_key_put(store_t *st, const users_key_t *key)
{
    uint8_t kkey[KEY_KEY_MAX], krec[KEY_RECORD_MAX];
    users_key_t k = *key;
    int ret;
    if (!key_valid(&k)) {
        ret = -EINVAL;
        goto Wipe;
    }
    if (k.created_ns == 0)
        k.created_ns = store_now_ns();
    pthread_mutex_lock(&users_lock);
    if ((ret = users_get(st, k.user, NULL)) == 0) {
        ret = users_key_get(st, k.access_key, NULL);
        if (ret == -ENOENT)
            ret = meta_put_sync(st->meta, kkey, key_key(kkey, k.access_key), krec, key_encode(&k, krec));
        else
            ret = ret == 0 || ret == STORE_E_CORRUPT ? -EEXIST : ret;
    }
    pthread_mutex_unlock(&users_lock);
    explicit_bzero(krec, sizeof(krec));
Wipe:
    explicit_bzero(k.secret, sizeof(k.secret));
    return ret;
}

int users_key_remove(store_t *st, const char *access_key, users_key_t *removed)
{
    uint8_t kkey[KEY_KEY_MAX];
    users_key_t k;
    pthread_mutex_lock(&users_lock);
    int ret = users_key_get(st, access_key, &k);
    if (ret == 0 && (k.flags & USERS_KEY_CONFIGURED))
        ret = -EPERM;
    if (ret == 0) {
        meta_batch_t *b = meta_batch_new();
        meta_batch_delete(b, kkey, key_key(kkey, access_key));
        ret = meta_batch_write(st->meta, b);
        meta_batch_free(b);
    }
    pthread_mutex_unlock(&users_lock);
    explicit_bzero(k.secret, sizeof(k.secret));
    if (ret == 0 && removed != NULL)
        *removed = k;
    return ret;
}

typedef struct list_keys_ctx {
    const char *user;
    int (*fn)(void *ctx, const users_key_t *k);
    void *ctx;
} list_keys_ctx_t;

static int on_key_record(void *p, const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len)
{
    list_keys_ctx_t *c = p;
    users_key_t k;
    int ret = key_decode(key, key_len, val, val_len, &k);
    if (ret == 0 && (c->user == NULL || strcmp(k.user, c->user) == 0))
        ret = c->fn(c->ctx, &k);
    explicit_bzero(k.secret, sizeof(k.secret));
    return ret;
}

int users_key_list(store_t *st, const char *user, int (*fn)(void *ctx, const users_key_t *k), void *ctx)
{
    list_keys_ctx_t c = {user, fn, ctx};
    return walk(st->meta, USERS_PREFIX_KEY, on_key_record, &c);
}

/* ------------------------------------------------------------------ root */

typedef struct retire_ctx {
    const char *current;
    meta_batch_t *batch;
    size_t num;
} retire_ctx_t;

static int on_root_key(void *p, const users_key_t *k)
{
    retire_ctx_t *c = p;
    if ((k->flags & USERS_KEY_CONFIGURED) && strcmp(k->access_key, c->current) != 0) {
        uint8_t kkey[KEY_KEY_MAX];
        meta_batch_delete(c->batch, kkey, key_key(kkey, k->access_key));
        c->num++;
    }
    return 0;
}

int users_ensure_root(store_t *st, const char *access_key, const char *secret, users_user_t *root, size_t *num_retired)
{
    uint8_t ukey[USER_KEY_MAX], urec[USER_RECORD_MAX], kkey[KEY_KEY_MAX], krec[KEY_RECORD_MAX], id[USER_ID_BYTES];
    users_user_t u = {0};
    users_key_t k = {0}, cur = {0};
    int ret, changed = 0;

    if (num_retired != NULL)
        *num_retired = 0;
    if (!configured_key_valid(access_key) || !users_secret_valid(secret))
        return -EINVAL;
    pthread_mutex_lock(&users_lock);
    meta_batch_t *b = meta_batch_new();
    retire_ctx_t c = {access_key, b, 0};
    if ((ret = users_get(st, USERS_ROOT, &u)) == -ENOENT) {
        snprintf(u.name, sizeof(u.name), USERS_ROOT);
        if (RAND_bytes(id, sizeof(id)) != 1)
            abort();
        hex_id(id, u.canonical_id);
        u.created_ns = store_now_ns();
        meta_batch_put(b, ukey, user_key(ukey, USERS_ROOT), urec, user_encode(&u, urec));
        changed = 1;
    } else if (ret != 0) {
        goto Exit;
    }
    ret = users_key_get(st, access_key, &cur);
    if (ret == 0 && strcmp(cur.user, USERS_ROOT) != 0) {
        ret = -EEXIST;
        goto Exit;
    }
    if (ret != 0 && ret != -ENOENT)
        goto Exit;
    if (ret == -ENOENT || strcmp(cur.secret, secret) != 0 || !(cur.flags & USERS_KEY_CONFIGURED)) {
        snprintf(k.access_key, sizeof(k.access_key), "%s", access_key);
        snprintf(k.secret, sizeof(k.secret), "%s", secret);
        snprintf(k.user, sizeof(k.user), USERS_ROOT);
        k.flags = USERS_KEY_CONFIGURED;
        k.created_ns = ret == 0 ? cur.created_ns : store_now_ns();
        meta_batch_put(b, kkey, key_key(kkey, access_key), krec, key_encode(&k, krec));
        changed = 1;
    }
    if ((ret = users_key_list(st, USERS_ROOT, on_root_key, &c)) != 0)
        goto Exit;
    if (changed || c.num != 0)
        ret = meta_batch_write(st->meta, b);
Exit:
    pthread_mutex_unlock(&users_lock);
    meta_batch_free(b);
    explicit_bzero(&k, sizeof(k));
    explicit_bzero(&cur, sizeof(cur));
    explicit_bzero(krec, sizeof(krec));
    if (ret == 0 && root != NULL)
        *root = u;
    if (ret == 0 && num_retired != NULL)
        *num_retired = c.num;
    return ret;
}

/* ------------------------------------------------------------------ offline access */

int users_store_open(const char *meta_dir, store_t **out, char *errbuf, size_t errbuf_len)
{
    struct stat sb;
    int created = 0;
    int rc = stat(meta_dir, &sb);
    if (rc != 0 || !S_ISDIR(sb.st_mode)) {
        int err = rc != 0 ? errno : ENOTDIR;
        snprintf(errbuf, errbuf_len, "metadata directory %s: %s", meta_dir, strerror(err));
        return -err;
    }
    store_t *st = calloc(1, sizeof(*st));
    if (st == NULL)
        abort();
    /* meta only: no data directory is opened, no chunk collected, no id reserved */
    int ret = meta_open(meta_dir, 0, &st->meta, &created, errbuf, errbuf_len);
    if (ret != 0) {
        free(st);
        return ret;
    }
    *out = st;
    return 0;
}

void users_store_close(store_t *st)
{
    if (st == NULL)
        return;
    meta_close(st->meta);
    free(st);
}

/* Removes dir and the files directly in it (RocksDB's info log of a read-only open). */
static void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        char path[4096];
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
            unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

/* Reads setting name (1..128 bytes) of a read-only database into out. Returns 0 or -ENOENT. */
static int read_setting(rocksdb_t *db, rocksdb_readoptions_t *ropts, const char *name, char out[USERS_SECRET_MAX + 1])
{
    uint8_t skey[1 + CODEC_SETTING_NAME_MAX];
    size_t len = 0;
    char *err = NULL;
    int n = codec_setting_key(skey, name), ret = -ENOENT;
    char *v = n > 0 ? rocksdb_get(db, ropts, (const char *)skey, (size_t)n, &len, &err) : NULL;
    rocksdb_free(err);
    if (v != NULL && len > 0 && len <= USERS_SECRET_MAX) {
        memcpy(out, v, len);
        out[len] = '\0';
        ret = 0;
    }
    if (v != NULL)
        explicit_bzero(v, len);
    rocksdb_free(v);
    return ret;
}

/*
 * The one RocksDB call outside meta.c: a read-only open takes no lock, which meta_open cannot
 * offer (it belongs there as meta_open_read_only when meta.c is next changed). RocksDB would
 * rotate the live server's info log (LOG) on open, so its log goes to a temporary directory.
 */
int users_read_root_key(const char *meta_dir, char access_key[USERS_ACCESS_KEY_MAX + 1], char secret[USERS_SECRET_MAX + 1],
                        char *errbuf, size_t errbuf_len)
{
    char logdir[4096], *err = NULL, current[4096];
    const char *tmp = getenv("TMPDIR");
    struct stat sb;
    int ret = -ENOENT;

    snprintf(current, sizeof(current), "%s/CURRENT", meta_dir);
    if (stat(current, &sb) != 0) {
        snprintf(errbuf, errbuf_len, "metadata directory %s holds no database", meta_dir);
        return -ENOENT;
    }
    snprintf(logdir, sizeof(logdir), "%s/coffer-ro-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(logdir) == NULL) {
        ret = -errno;
        snprintf(errbuf, errbuf_len, "mkdtemp %s: %s", logdir, strerror(errno));
        return ret;
    }
    rocksdb_options_t *opts = rocksdb_options_create();
    rocksdb_options_set_db_log_dir(opts, logdir);
    rocksdb_readoptions_t *ropts = rocksdb_readoptions_create();
    rocksdb_t *db = rocksdb_open_for_read_only(opts, meta_dir, 0, &err);
    if (err != NULL) {
        snprintf(errbuf, errbuf_len, "metadata directory %s: cannot open RocksDB read-only: %s", meta_dir, err);
        rocksdb_free(err);
        ret = -EIO;
        goto Exit;
    }
    size_t len = 0;
    char *marker = rocksdb_get(db, ropts, CODEC_KEY_MARKER, 1, &len, &err);
    int ours = err == NULL && marker != NULL && len == strlen(CODEC_MARKER_VALUE) && memcmp(marker, CODEC_MARKER_VALUE, len) == 0;
    rocksdb_free(marker);
    rocksdb_free(err);
    err = NULL;
    if (!ours) {
        snprintf(errbuf, errbuf_len, "metadata directory %s is not a Coffer store", meta_dir);
        ret = -EINVAL;
        goto Exit;
    }
    /* root's configured key record; a store from before users has only the generated settings */
    rocksdb_iterator_t *it = rocksdb_create_iterator(db, ropts);
    char prefix = USERS_PREFIX_KEY;
    for (rocksdb_iter_seek(it, &prefix, 1); ret != 0 && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t key_len, val_len;
        const char *key = rocksdb_iter_key(it, &key_len);
        const char *val = rocksdb_iter_value(it, &val_len);
        users_key_t k;
        if (key_len == 0 || key[0] != USERS_PREFIX_KEY)
            break;
        if (key_decode((const uint8_t *)key, key_len, (const uint8_t *)val, val_len, &k) == 0 && (k.flags & USERS_KEY_CONFIGURED) &&
            strcmp(k.user, USERS_ROOT) == 0) {
            memcpy(access_key, k.access_key, sizeof(k.access_key));
            memcpy(secret, k.secret, sizeof(k.secret));
            ret = 0;
        }
        explicit_bzero(k.secret, sizeof(k.secret));
    }
    rocksdb_iter_destroy(it);
    if (ret != 0 && read_setting(db, ropts, "root_access_key", access_key) == 0 &&
        read_setting(db, ropts, "root_secret_key", secret) == 0)
        ret = 0;
    if (ret != 0)
        snprintf(errbuf, errbuf_len, "metadata directory %s holds no root key", meta_dir);
Exit:
    if (db != NULL)
        rocksdb_close(db);
    rocksdb_readoptions_destroy(ropts);
    rocksdb_options_destroy(opts);
    remove_flat_dir(logdir);
    return ret;
}
