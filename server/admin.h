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
 */
#ifndef COFFER_ADMIN_H
#define COFFER_ADMIN_H

#include "server/handler.h"

#define ADMIN_PATH_PREFIX "/_coffer/"
/** Damage reports kept for GET; more are counted, not kept. */
#define ADMIN_SCRUB_MAX_REPORTS 10000

void admin_scrub_start(s3_req_t *r);
void admin_scrub_status(s3_req_t *r);
/** Stops a running scrub and waits for its thread (at shutdown, before the store closes). */
void admin_shutdown(void);

#endif
