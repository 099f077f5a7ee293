/* server/admin.h -- Coffer's own administration endpoints, beside the S3 API.
 *
 * DESIGN: admin requests are path-style under /_coffer/ (no bucket can be
 * named "_coffer": underscores are not valid in bucket names), signed with
 * SigV4 like any request, and served only to the root user. Replies are JSON.
 *   POST /_coffer/scrub          starts a scrub on its own thread (202), or
 *                                reports the one running
 *   GET  /_coffer/scrub?from=N   its state, counters, and the damage found
 *                                from report N on (so a poller fetches only
 *                                what is new)
 *   GET    /_coffer/users             every user with its access key ids (never a secret)
 *   POST   /_coffer/users             adds a user: {"name", "email"?, "access_key"?, "secret_key"?};
 *                                     keys not given are generated; the reply holds the secret, once
 *   DELETE /_coffer/users/NAME        removes a user and all its access keys (not root)
 *   POST   /_coffer/users/NAME/keys   adds an access key: {"access_key"?, "secret_key"?} (body optional)
 *   DELETE /_coffer/keys/ACCESS_KEY   removes an access key (not root's configured one)
 *
 * User changes are made in the metadata store first (synced, on the I/O pool),
 * then in the credential table (auth/keys.h), under one lock so the two never
 * disagree; a removed key is refused from the next request on. Errors are S3
 * XML: AccessDenied (403) for anyone but root and for removing root or its
 * configured key, InvalidArgument (400) for bad JSON, names or keys,
 * NoSuchEntity (404) and EntityAlreadyExists (409) as IAM names them.
 */
#ifndef COFFER_ADMIN_H
#define COFFER_ADMIN_H

#include "server/handler.h"

#define ADMIN_PATH_PREFIX "/_coffer/"

struct json_t; /* jansson's */
/** Damage reports kept for GET; more are counted, not kept. */
#define ADMIN_SCRUB_MAX_REPORTS 10000

void admin_scrub_start(s3_req_t *r);
void admin_scrub_status(s3_req_t *r);
/** Stops a running scrub and waits for its thread (at shutdown, before the store closes). */
void admin_shutdown(void);

/** The five /_coffer/users and /_coffer/keys operations (r->route.op says which). */
void admin_users(s3_req_t *r);

typedef enum admin_users_op {
    ADMIN_USERS_LIST,
    ADMIN_USER_ADD,
    ADMIN_USER_REMOVE,
    ADMIN_KEY_ADD,
    ADMIN_KEY_REMOVE,
} admin_users_op_t;

/** One user-administration request, as the endpoint decoded it or the offline CLI built it. */
typedef struct admin_users_req {
    admin_users_op_t op;
    const char *name;       /* the user: add, remove, key add; borrowed */
    const char *email;      /* user add; NULL for none */
    const char *access_key; /* user add and key add (NULL: generate), key remove */
    const char *secret_key; /* user add and key add; NULL: generate */
} admin_users_req_t;

/**
 * Runs req against st (every change synced) and then mirrors it into keys (NULL when no
 * server runs: the offline CLI). *reply gets the JSON the endpoint answers with (json_decref
 * it; a generated or given secret is in it once). Returns 0, or -EINVAL, -ENOENT, -EEXIST,
 * -EPERM or -errno with a reason in msg.
 */
int admin_users_run(store_t *st, keys_t *keys, const admin_users_req_t *req, struct json_t **reply, char *msg, size_t msg_len);

#endif
