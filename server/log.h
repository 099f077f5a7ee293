/* server/log.h -- the one logging module: levels, and the access log. */
#ifndef COFFER_LOG_H
#define COFFER_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NONE } log_level_t;

extern log_level_t log_threshold;

/** Parses "debug", "info", "warn", "error" or "none". Returns 0, or -1 for an unknown name. */
int log_parse_level(const char *name, log_level_t *out);

/** Writes one line to stderr when level >= log_threshold. Never pass secrets or signatures. */
void log_write(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) (log_threshold <= LOG_DEBUG ? log_write(LOG_DEBUG, __VA_ARGS__) : (void)0)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/**
 * Copies len bytes of s into out (out_len bytes, NUL-terminated, cut to fit) with control
 * characters and backslashes escaped (\n, \xNN, \\), so a key cannot split or forge a line.
 * Returns out.
 */
char *log_escape(char *out, size_t out_len, const char *s, size_t len);

/** Whether access-log lines are written (on by default; they go to stdout). */
extern int log_access_enabled;

/** What one access-log line says about a request (strings borrowed, not escaped: no spaces or newlines). */
typedef struct log_access_entry {
    const char *request_id;
    const char *user; /* "-" when anonymous */
    const char *method;
    size_t method_len;
    const char *path; /* the raw path, without the query */
    size_t path_len;
    const char *op;
    int status;
    uint64_t bytes_in, bytes_out;
    int64_t usec; /* how long the request took */
    time_t end;   /* when it ended (the line's time) */
} log_access_entry_t;

/**
 * Queues the access-log line of e in this thread's buffer, written to stdout by
 * log_access_flush (or at once when the buffer is full):
 * "<time> access <request-id> <user> <METHOD> <path> <Operation> <status> <in> <out> <ms>ms".
 */
void log_access(const log_access_entry_t *e);
/** Writes this thread's queued access-log lines to stdout. Event loops call it after every turn. */
void log_access_flush(void);

#endif
