/* storage/codec.h -- metadata key and record encoding (pure functions).
 *
 * DESIGN: every metadata record lives in one RocksDB key space chosen by a
 * one-byte prefix, and keys are built so that RocksDB's bytewise order is the
 * order S3 lists in:
 *
 *   'B' name                              bucket record
 *   'O' u8 len(bucket) bucket key-bytes   object record (current version)
 *   'R' u64be chunk id                    chunk reference count (u64le)
 *   'S' name                              small named setting
 *   'C'                                   chunk-id reservation counter (u64le)
 *   'M'                                   marker: "this is a Coffer metadata store"
 *   'U' u8 len(bucket) bucket esc(key) 00 00 id[16]   multipart upload (record as an object's, no data)
 *   'P' id[16] u16be part-number          uploaded part (record as an object's, chunked data)
 *   'G' u8 len(bucket) bucket name        a bucket's configuration document (tags, ownership controls, acl, policy...)
 *   'W' name                              user record (storage/users.c)
 *   'K' access-key                        access key record (storage/users.c)
 *
 * esc() doubles a NUL byte as 00 FF, so "key, then 00 00" keeps S3 key order
 * for upload keys, and uploads of one key sort by id, whose first 8 bytes are
 * the big-endian initiation time.
 *
 * The length byte in object keys keeps buckets whose names are prefixes of each
 * other ("ab", "abc") apart, and object keys may hold any byte, NUL included.
 *
 * Object record (all integers little-endian):
 *   u8 version(2) | u64 size | i64 mtime_ns | u8 md5[16] | u32 num_parts   <- the head (listing stops here)
 *   u16 num_headers { u16 name_len name u16 value_len value }
 *   u64 part_size[num_parts]            (multipart objects: md5 is then the MD5 of the parts' MD5s)
 *   u8 layout: 0 = inline { size bytes }
 *              1 = chunks { u32 num_chunks { u64 id u16 dir u32 len u32 crc32c[ceil(len / 1 MiB)] } }
 *              2 = chunks with copies { u32 num_chunks { u64 id u8 n u16 dir[n] u32 len u32 crc32c[...] } }
 * Layout 1 is written when every chunk has one copy, so such records are as before copies existed.
 * Version 1 records (no num_parts, no part sizes) are still read.
 * The data layout comes last so the head decodes without touching it. Every
 * decoder bounds-checks: a corrupt record yields -EINVAL, never a crash.
 */
#ifndef COFFER_CODEC_H
#define COFFER_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

#define CODEC_PREFIX_BUCKET 'B'
#define CODEC_PREFIX_OBJECT 'O'
#define CODEC_PREFIX_REF 'R'
#define CODEC_PREFIX_SETTING 'S'
#define CODEC_PREFIX_UPLOAD 'U'
#define CODEC_PREFIX_PART 'P'
#define CODEC_PREFIX_BUCKET_CONF 'G'
#define CODEC_KEY_CHUNK_COUNTER "C"
#define CODEC_KEY_MARKER "M"
#define CODEC_MARKER_VALUE "coffer-meta-v1"

#define CODEC_RECORD_VERSION 2
#define CODEC_OBJECT_HEAD_LEN (1 + 8 + 8 + 16 + 4)
#define CODEC_UPLOAD_ID_LEN 16
/* 'U' + length byte + bucket + escaped key + 00 00 + id */
#define CODEC_UPLOAD_KEY_MAX (2 + STORE_BUCKET_NAME_MAX + 2 * STORE_KEY_MAX + 2 + CODEC_UPLOAD_ID_LEN)
#define CODEC_PART_KEY_LEN (1 + CODEC_UPLOAD_ID_LEN + 2)
#define CODEC_SETTING_NAME_MAX 255
/* 'O' + length byte + bucket + key */
#define CODEC_OBJECT_KEY_MAX (2 + STORE_BUCKET_NAME_MAX + STORE_KEY_MAX)
#define CODEC_REF_KEY_LEN 9
#define CODEC_CONF_NAME_MAX 64
/* 'G' + length byte + bucket + configuration name */
#define CODEC_CONF_KEY_MAX (2 + STORE_BUCKET_NAME_MAX + CODEC_CONF_NAME_MAX)

#define CODEC_MAX_COPIES STORE_MAX_COPIES

/** Where a chunk's copies are: indexes into the configured data directories, each at most once. */
typedef struct chunk_place {
    uint8_t num; /* 1..CODEC_MAX_COPIES */
    uint16_t dirs[CODEC_MAX_COPIES];
} chunk_place_t;

/** A chunk of an object's data, as decoded from its record. */
struct store_chunk_ref {
    uint64_t id;
    uint64_t offset; /* where the chunk starts in the object (derived from the lengths before it) */
    uint32_t len;
    chunk_place_t place;
    uint32_t num_blocks; /* ceil(len / STORE_READ_BLOCK) */
    const uint8_t *crcs; /* borrowed from the record: num_blocks CRC32C values, u32le each */
};

/** A chunk to encode: crcs holds ceil(len / STORE_READ_BLOCK) values. */
typedef struct codec_chunk_in {
    uint64_t id;
    uint32_t len;
    chunk_place_t place;
    const uint32_t *crcs; /* borrowed */
} codec_chunk_in_t;

/** What an object record holds, for encoding. Exactly one of inline_data / chunks describes the data. */
typedef struct codec_object_in {
    uint64_t size;
    int64_t mtime_ns;
    uint8_t md5[16];
    const store_kv_t *headers; /* borrowed */
    size_t num_headers;
    const uint8_t *inline_data;     /* borrowed; used when num_chunks == 0 (size bytes) */
    const codec_chunk_in_t *chunks; /* borrowed */
    size_t num_chunks;
    uint32_t num_parts;         /* multipart objects: how many parts */
    const uint64_t *part_sizes; /* borrowed: num_parts sizes */
} codec_object_in_t;

/** Writes 'B'+name into out (CODEC_OBJECT_KEY_MAX bytes suffice). Returns the key length or -EINVAL. */
int codec_bucket_key(uint8_t *out, const char *name, size_t name_len);
/** Writes the prefix all of a bucket's object keys share ('O' len bucket). Returns its length or -EINVAL. */
int codec_object_prefix(uint8_t *out, const char *bucket, size_t bucket_len);
/** Writes the object key into out (CODEC_OBJECT_KEY_MAX bytes). Returns the key length or -EINVAL. */
int codec_object_key(uint8_t *out, const char *bucket, size_t bucket_len, const void *key, size_t key_len);
/** Splits an object key into bucket and key (pointers into enc). Returns 0 or -EINVAL. */
int codec_object_key_decode(const uint8_t *enc, size_t enc_len, const char **bucket, size_t *bucket_len, const char **key,
                            size_t *key_len);
/** Writes the prefix all of a bucket's configuration keys share ('G' len bucket). Returns its length or -EINVAL. */
int codec_bucket_conf_prefix(uint8_t *out, const char *bucket, size_t bucket_len);
/** Writes a bucket's configuration key into out (CODEC_CONF_KEY_MAX bytes). Returns its length or -EINVAL. */
int codec_bucket_conf_key(uint8_t *out, const char *bucket, size_t bucket_len, const char *name);
/** Writes 'R'+u64be id (CODEC_REF_KEY_LEN bytes). */
void codec_ref_key(uint8_t *out, uint64_t chunk_id);
/** Writes 'S'+name into out (1 + CODEC_SETTING_NAME_MAX bytes). Returns the key length or -EINVAL. */
int codec_setting_key(uint8_t *out, const char *name);

/**
 * Turns key into the smallest byte string greater than every string that starts
 * with key (drop trailing 0xFF bytes, then add one to the last byte), in place.
 * Returns the new length, or 0 when no such string exists (key was all 0xFF).
 */
size_t codec_prefix_successor(uint8_t *key, size_t len);

/** Encodes a u64 as 8 little-endian bytes (reference counts, the chunk-id counter). */
void codec_put_u64(uint8_t *out, uint64_t v);
/** Decodes a u64 value record. Returns 0 or -EINVAL when len != 8. */
int codec_get_u64(const void *in, size_t len, uint64_t *v);

/** Encodes a bucket record into a malloc'ed buffer (free()). Returns 0 or -EINVAL (field too long). */
int codec_bucket_encode(const store_bucket_t *b, uint8_t **out, size_t *out_len);
/** Decodes a bucket record; name is taken from the caller. Returns 0 or -EINVAL. */
int codec_bucket_decode(const void *rec, size_t len, const char *name, size_t name_len, store_bucket_t *out);

/** Encodes an object record into a malloc'ed buffer (free()). Returns 0 or -EINVAL (a field too long). */
int codec_object_encode(const codec_object_in_t *in, uint8_t **out, size_t *out_len);
/** Decodes only the fixed head (size, mtime, md5, number of parts). Returns 0 or -EINVAL. */
int codec_object_decode_head(const void *rec, size_t len, uint64_t *size, int64_t *mtime_ns, uint8_t md5[16], uint32_t *num_parts);
/**
 * Finds header name in an object (or upload) record without decoding the rest: 0 with *value /
 * *value_len pointing into rec, -ENOENT when the record has no such header, or -EINVAL when the
 * record is corrupt up to the headers. Allocates nothing (listings call it once per entry).
 */
int codec_object_find_header(const void *rec, size_t len, const char *name, size_t name_len, const char **value, size_t *value_len);
/**
 * Decodes a whole record into out; out->rec is NOT set (the caller owns rec and
 * stores it there) but every pointer in out points into rec; the headers and
 * chunks arrays are malloc'ed. Returns 0 or -EINVAL (nothing to free then).
 */
int codec_object_decode(const void *rec, size_t len, store_object_t *out);
/** Writes the upload key into out (CODEC_UPLOAD_KEY_MAX bytes). Returns its length or -EINVAL. */
int codec_upload_key(uint8_t *out, const char *bucket, size_t bucket_len, const void *key, size_t key_len,
                     const uint8_t id[CODEC_UPLOAD_ID_LEN]);
/**
 * Writes the start of the upload keys of every key that begins with key (prefix + escaped key bytes;
 * key may be empty): a seek target, and a prefix when no terminator follows. Returns its length or -EINVAL.
 */
int codec_upload_key_start(uint8_t *out, const char *bucket, size_t bucket_len, const void *key, size_t key_len);
/** Writes the prefix all of a bucket's upload keys share ('U' len bucket). Returns its length or -EINVAL. */
int codec_upload_prefix(uint8_t *out, const char *bucket, size_t bucket_len);
/**
 * Splits the part of an upload key after the bucket prefix (prefix_len bytes) into the
 * object key (unescaped into key_out, STORE_KEY_MAX bytes) and the upload id. Returns 0 or -EINVAL.
 */
int codec_upload_key_decode(const uint8_t *enc, size_t enc_len, size_t prefix_len, char *key_out, size_t *key_len,
                            uint8_t id[CODEC_UPLOAD_ID_LEN]);
/** Writes 'P' id part (CODEC_PART_KEY_LEN bytes); part 0 gives the first key of the upload's parts. */
void codec_part_key(uint8_t *out, const uint8_t id[CODEC_UPLOAD_ID_LEN], uint32_t part_number);

/** CRC32C of block i of a decoded chunk. */
uint32_t codec_chunk_crc(const store_chunk_ref_t *c, uint32_t i);

#endif
