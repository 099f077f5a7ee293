/* server/log.h -- the one logging module: levels, and the access log. */
#ifndef COFFER_LOG_H
#define COFFER_LOG_H

#include <stddef.h>

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

/**
 * Queues one access-log line (already formatted, with its newline) in this thread's buffer,
 * written to stdout by log_access_flush (or at once when the buffer is full).
 */
void log_access(const char *line, int len);
/** Writes this thread's queued access-log lines to stdout. Event loops call it after every turn. */
void log_access_flush(void);

#endif
