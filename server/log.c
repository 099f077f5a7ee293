/* server/log.c -- leveled diagnostics on stderr, one access-log line per request on stdout.
 *
 * DESIGN: every line is assembled in a stack buffer and written with a single
 * write(2), so lines from concurrent threads never interleave and no lock is
 * taken on the request path. Access-log lines are gathered in a per-thread
 * buffer that the event loop flushes after each turn (log_access_flush), so a
 * turn that finished many requests costs one write(2), not one per request,
 * and no line waits longer than the turn that produced it. */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

log_level_t log_threshold = LOG_INFO;
int log_access_enabled = 1;

static const char *const level_names[] = {"debug", "info", "warn", "error", "none"};

int log_parse_level(const char *name, log_level_t *out)
{
    for (int i = 0; i <= LOG_NONE; ++i) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0)
            return; /* nowhere left to report a logging failure */
        buf += n;
        len -= (size_t)n;
    }
}

char *log_escape(char *out, size_t out_len, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && out_len > 0; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[5];
        size_t n;
        if (c == '\\' || c == '\n') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : '\\';
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            n = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", c);
        } else {
            esc[0] = (char)c;
            n = 1;
        }
        if (o + n >= out_len)
            break;
        memcpy(out + o, esc, n);
        o += n;
    }
    if (out_len > 0)
        out[o] = '\0';
    return out;
}

void log_write(log_level_t level, const char *fmt, ...)
{
    if (level < log_threshold)
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int len = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    len += snprintf(line + len, sizeof(line) - len, ".%03dZ %s ", (int)(tv.tv_usec / 1000), level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    len += n;
    if (len > (int)sizeof(line) - 2)
        len = (int)sizeof(line) - 2;
    line[len++] = '\n';
    write_all(2, line, (size_t)len);
}

#define ACCESS_BUFFER_BYTES (32 * 1024)

static _Thread_local struct {
    size_t len;
    char data[ACCESS_BUFFER_BYTES];
} access_buf;

void log_access_flush(void)
{
    if (access_buf.len == 0)
        return;
    write_all(1, access_buf.data, access_buf.len);
    access_buf.len = 0;
}

/* An access-log line being written: the bytes that do not fit are dropped. */
typedef struct line_out {
    char *p, *end;
} line_out_t;

static void put_mem(line_out_t *o, const void *s, size_t n)
{
    if (n > (size_t)(o->end - o->p))
        n = (size_t)(o->end - o->p);
    memcpy(o->p, s, n);
    o->p += n;
}

static void put_char(line_out_t *o, char c)
{
    if (o->p < o->end)
        *o->p++ = c;
}

/* v in decimal, at least min_digits long (zeros in front). */
static void put_u64(line_out_t *o, uint64_t v, int min_digits)
{
    char b[24];
    int i = (int)sizeof(b);
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 || (int)sizeof(b) - i < min_digits);
    put_mem(o, b + i, sizeof(b) - (size_t)i);
}

void log_access(const log_access_entry_t *e)
{
    /* the time, formatted again only when the second changes */
    static _Thread_local time_t stamp_sec = -1;
    static _Thread_local char stamp[24];
    static _Thread_local size_t stamp_len;
    char line[1536];
    line_out_t o = {line, line + sizeof(line) - 1}; /* room for the newline */
    if (!log_access_enabled)
        return;
    if (e->end != stamp_sec) {
        struct tm tm;
        gmtime_r(&e->end, &tm);
        stamp_len = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        stamp_sec = e->end;
    }
    put_mem(&o, stamp, stamp_len);
    put_mem(&o, " access ", 8);
    put_mem(&o, e->request_id, strlen(e->request_id));
    put_char(&o, ' ');
    put_mem(&o, e->user, strlen(e->user));
    put_char(&o, ' ');
    put_mem(&o, e->method, e->method_len);
    put_char(&o, ' ');
    put_mem(&o, e->path, e->path_len);
    put_char(&o, ' ');
    put_mem(&o, e->op, strlen(e->op));
    put_char(&o, ' ');
    put_u64(&o, e->status > 0 ? (uint64_t)e->status : 0, 1);
    put_char(&o, ' ');
    put_u64(&o, e->bytes_in, 1);
    put_char(&o, ' ');
    put_u64(&o, e->bytes_out, 1);
    put_char(&o, ' ');
    uint64_t usec = e->usec > 0 ? (uint64_t)e->usec : 0;
    put_u64(&o, usec / 1000, 1);
    put_char(&o, '.');
    put_u64(&o, usec % 1000, 3);
    put_mem(&o, "ms", 2);
    *o.p++ = '\n';

    size_t len = (size_t)(o.p - line);
    if (access_buf.len + len > sizeof(access_buf.data))
        log_access_flush();
    memcpy(access_buf.data + access_buf.len, line, len);
    access_buf.len += len;
}
