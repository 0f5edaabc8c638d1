/*
 * The HTTP side of tito-leaderboard, on libmicrohttpd: one static route table
 * {method, path pattern, handler, flags} checked in one place (unknown paths 404,
 * known paths with another method 405 with Allow, bodies only where a route takes
 * one, capped at --max-body and required to be JSON), one log line per request when it
 * completes, and a clean stop on SIGTERM or SIGINT: the daemon stops accepting, the
 * requests in progress finish, the store closes.
 *
 * Threads: libmicrohttpd's own pool (--threads) runs the handlers; the store serialises
 * its use of the database, the rate limiter and the log have their own locks. The main
 * thread only waits for a signal.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lb.h"

/* ---------------------------------------------------------------- routes */

enum route_flags {
    ROUTE_BODY = 1u << 0, /* POST with a JSON body */
    ROUTE_HTML = 1u << 1, /* a page: errors as HTML */
};

typedef void (*route_handler)(lb_server *srv, lb_request *req, lb_response *res);

typedef struct route {
    const char *method;
    const char *pattern; /* '*' matches one path segment */
    route_handler handler;
    unsigned flags;
} route;

static const route routes[] = {
    {"GET", "/api/v1/health", lb_api_health, 0},
    {"POST", "/api/v1/enroll", lb_api_enroll, ROUTE_BODY},
    {"POST", "/api/v1/submissions", lb_api_submit, ROUTE_BODY},
    {"POST", "/api/v1/verifications", lb_api_verify, ROUTE_BODY},
    {"GET", "/api/v1/courses/*/ranking", lb_api_ranking, 0},
    {"GET", "/api/v1/courses/*/students/*", lb_api_student, 0},
    {"GET", "/", lb_web_index, ROUTE_HTML},
    {"GET", "/c/*", lb_web_course, ROUTE_HTML},
    {"GET", "/c/*/s/*", lb_web_student, ROUTE_HTML},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])
#define SEGMENT_MAX 128

/* Whether `path` fits `pattern`; the '*' segments go into segs (at most 2). */
static bool route_match(const char *pattern, const char *path, char segs[2][SEGMENT_MAX])
{
    int n_segs = 0;
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p == '*') {
            size_t len = strcspn(q, "/");
            if (len == 0 || len >= SEGMENT_MAX || n_segs == 2)
                return false;
            memcpy(segs[n_segs], q, len);
            segs[n_segs][len] = '\0';
            n_segs++;
            p++;
            q += len;
        } else if (*p == *q) {
            p++;
            q++;
        } else {
            return false;
        }
    }
    return *p == '\0' && *q == '\0';
}

/* ---------------------------------------------------------------- the log */

static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_stamp(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    time_t t = ts.tv_sec;
    gmtime_r(&t, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.19s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

static void log_line(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static void log_line(const char *fmt, ...)
{
    char stamp[40];
    log_stamp(stamp);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    fprintf(log_file, "%s %s\n", stamp, line);
    fflush(log_file);
    pthread_mutex_unlock(&log_lock);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_line("libmicrohttpd: %s", msg);
}

/* ---------------------------------------------------------------- one request */

typedef struct conn_state {
    lb_request req;
    char method[16];
    char path[512];
    char segs[2][SEGMENT_MAX];
    char remote[64];
    const route *route;
    char *body;
    size_t len, cap;
    bool responded, dropped;
    unsigned status;
    size_t bytes_out;
    double start;
} conn_state;

void lb_error_response(lb_response *res, lb_request *req, unsigned status, const char *code, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    snprintf(req->error_code, sizeof req->error_code, "%s", code);
    /* Messages may quote what a client sent: make them valid UTF-8 for JSON. */
    char *clean = lb_utf8_clean(message);
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", clean ? clean : "");
    free(clean);
    res->status = status;
    res->content_type = "application/json";
    res->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    res->len = res->body ? strlen(res->body) : 0;
    json_decref(body);
}

void lb_json_response(lb_response *res, lb_request *req, unsigned status, json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    if (!text) {
        lb_error_response(res, req, 500, "internal", "out of memory");
        return;
    }
    res->status = status;
    res->content_type = "application/json";
    res->body = text;
    res->len = strlen(text);
}

const char *lb_query(const lb_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result send_response(conn_state *cs, lb_response *res)
{
    cs->responded = true;
    if (res->drop) {
        free(res->body);
        cs->dropped = true;
        return MHD_NO; /* libmicrohttpd closes the connection */
    }
    struct MHD_Response *r =
        res->body ? MHD_create_response_from_buffer(res->len, res->body, MHD_RESPMEM_MUST_FREE)
                  : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(res->body);
        return MHD_NO;
    }
    if (res->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* The pages need nothing from anywhere: no script, no outside resource. */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (res->retry_after[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, res->retry_after);
    if (res->allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, res->allow);
    cs->status = res->status;
    cs->bytes_out = res->len;
    enum MHD_Result ret = MHD_queue_response(cs->req.connection, res->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* An error before any handler ran (route, size, type): JSON for the API, HTML for pages. */
static enum MHD_Result send_error(conn_state *cs, bool html, unsigned status, const char *code, const char *message,
                                 const char *allow)
{
    lb_response res;
    memset(&res, 0, sizeof res);
    if (html)
        lb_web_error(&res, &cs->req, status, code, message);
    else
        lb_error_response(&res, &cs->req, status, code, "%s", message);
    res.allow = allow;
    return send_response(cs, &res);
}

static void remote_address(conn_state *cs, struct MHD_Connection *c, bool trust_proxy)
{
    snprintf(cs->remote, sizeof cs->remote, "-");
    if (trust_proxy) {
        const char *fwd = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
        if (fwd) {
            size_t n = strcspn(fwd, ", ");
            snprintf(cs->remote, sizeof cs->remote, "%.*s", (int)(n < 63 ? n : 63), fwd);
            return;
        }
    }
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, cs->remote, sizeof cs->remote);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, cs->remote,
                  sizeof cs->remote);
}

/* The first call for a request: find its route, check what can be checked before the
 * body arrives. Returns true when it answered already. */
static bool begin_request(lb_server *srv, conn_state *cs, enum MHD_Result *ret)
{
    const char *path = cs->path;
    bool api = strncmp(path, "/api/", 5) == 0;
    const char *allow = NULL; /* the method of a route with this path: each path has one */
    for (size_t i = 0; i < N_ROUTES; i++) {
        char segs[2][SEGMENT_MAX];
        if (!route_match(routes[i].pattern, path, segs))
            continue;
        allow = routes[i].method;
        if (strcmp(routes[i].method, cs->method) == 0) {
            cs->route = &routes[i];
            memcpy(cs->segs, segs, sizeof segs);
            cs->req.params[0] = cs->segs[0];
            cs->req.params[1] = cs->segs[1];
            break;
        }
    }
    if (!cs->route) {
        *ret = allow ? send_error(cs, !api, 405, "method_not_allowed", "this path does not take that method", allow)
                     : send_error(cs, !api, 404, "not_found", "no such page or API route", NULL);
        return true;
    }
    if (!(cs->route->flags & ROUTE_BODY))
        return false;
    struct MHD_Connection *c = cs->req.connection;
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t type_len = type ? strcspn(type, "; \t") : 0;
    if (!type || type_len != 16 || strncasecmp(type, "application/json", 16) != 0) {
        *ret = send_error(cs, false, 415, "unsupported_media_type", "the body must be Content-Type: application/json", NULL);
        return true;
    }
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(length, &end, 10);
        if (errno == 0 && end != length && n > srv->config.max_body) {
            char message[128];
            snprintf(message, sizeof message, "the body is %llu bytes; this server takes at most %zu", n,
                     srv->config.max_body);
            *ret = send_error(cs, false, 413, "too_large", message, NULL);
            return true;
        }
    }
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    lb_server *srv = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = calloc(1, sizeof *cs);
        if (!cs)
            return MHD_NO;
        *con_cls = cs;
        cs->start = now_seconds();
        cs->req.connection = connection;
        snprintf(cs->method, sizeof cs->method, "%s", method);
        snprintf(cs->path, sizeof cs->path, "%s", url);
        cs->req.method = cs->method;
        cs->req.path = cs->path;
        remote_address(cs, connection, srv->config.trust_proxy);
        enum MHD_Result ret = MHD_YES;
        if (strlen(url) >= sizeof cs->path)
            return send_error(cs, strncmp(url, "/api/", 5) != 0, 404, "not_found", "no such page or API route", NULL);
        if (begin_request(srv, cs, &ret))
            return ret;
        return MHD_YES;
    }
    if (cs->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!(cs->route->flags & ROUTE_BODY))
            return MHD_YES; /* a body where none is read: ignored */
        if (cs->len + n > srv->config.max_body) {
            char message[128];
            snprintf(message, sizeof message, "the body is more than %zu bytes, the most this server takes",
                     srv->config.max_body);
            return send_error(cs, false, 413, "too_large", message, NULL);
        }
        if (cs->len + n + 1 > cs->cap) {
            size_t cap = cs->cap ? cs->cap : 4096;
            while (cap < cs->len + n + 1)
                cap *= 2;
            char *p = realloc(cs->body, cap);
            if (!p)
                return send_error(cs, false, 500, "internal", "out of memory reading the body", NULL);
            cs->body = p;
            cs->cap = cap;
        }
        memcpy(cs->body + cs->len, upload_data, n);
        cs->len += n;
        cs->body[cs->len] = '\0';
        return MHD_YES;
    }
    /* The whole request is here. */
    cs->req.body = cs->body ? cs->body : "";
    cs->req.body_len = cs->len;
    lb_response res;
    memset(&res, 0, sizeof res);
    cs->route->handler(srv, &cs->req, &res);
    return send_response(cs, &res);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)connection;
    conn_state *cs = *con_cls;
    if (!cs)
        return;
    double ms = (now_seconds() - cs->start) * 1000.0;
    const char *outcome = cs->req.error_code[0] ? cs->req.error_code : "-";
    if (cs->dropped)
        outcome = "dropped(test)";
    else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !cs->responded)
        outcome = "closed-by-client";
    log_line("%s %s %s %u %zu %.1fms key=%.16s %s", cs->remote, cs->method, cs->path, cs->status, cs->bytes_out, ms,
             cs->req.key_id[0] ? cs->req.key_id : "-", outcome);
    free(cs->body);
    free(cs);
    *con_cls = NULL;
}

/* ---------------------------------------------------------------- serving */

static tt_status write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return tt_error_set(TT_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return tt_error_set(TT_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    return TT_OK;
}

tt_status lb_serve(const lb_config *config)
{
    tt_status st = TT_OK;
    lb_server srv;
    memset(&srv, 0, sizeof srv);
    srv.config = *config;
    struct MHD_Daemon *daemon = NULL;

    /* Signals are taken by sigwait in this thread; every thread started from here
     * inherits the mask, so none of them is interrupted by SIGTERM. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_file = stderr;
    if (config->log_path) {
        log_file = fopen(config->log_path, "a");
        if (!log_file) {
            log_file = stderr;
            return tt_error_set(TT_ERR_IO, "cannot open the log %s: %s", config->log_path, strerror(errno));
        }
    }
    TT_CHECK(tito_crypto_init());
    TT_CHECK(lb_store_open(&srv.store, config->db_path));
    TT_CHECK(lb_ratelimit_new(&srv.ratelimit, config->rate, config->burst));

    struct sockaddr_in addr4;
    struct sockaddr_in6 addr6;
    memset(&addr4, 0, sizeof addr4);
    memset(&addr6, 0, sizeof addr6);
    const struct sockaddr *addr = NULL;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, config->listen, &addr4.sin_addr) == 1) {
        addr4.sin_family = AF_INET;
        addr4.sin_port = htons((uint16_t)config->port);
        addr = (const struct sockaddr *)&addr4;
    } else if (inet_pton(AF_INET6, config->listen, &addr6.sin6_addr) == 1) {
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons((uint16_t)config->port);
        addr = (const struct sockaddr *)&addr6;
        flags |= MHD_USE_IPv6;
    } else {
        st = tt_error_set(TT_ERR_INVALID_ARG, "--listen %s: expected an IPv4 or IPv6 address", config->listen);
        goto cleanup;
    }
    daemon = MHD_start_daemon(flags, (uint16_t)config->port, NULL, NULL, on_request, &srv,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, &srv, MHD_OPTION_SOCK_ADDR, addr,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(config->threads ? config->threads : 1),
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv, MHD_OPTION_END);
    if (!daemon) {
        st = tt_error_set(TT_ERR_IO, "cannot listen on %s port %d (in use? see the log)", config->listen, config->port);
        goto cleanup;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : (unsigned)config->port;
    if (config->port_file)
        TT_CHECK(write_port_file(config->port_file, port));
    log_line("tito-leaderboard %s listening on http://%s%s%s:%u/ (database %s, schema %d, %u threads, bodies up to "
             "%zu bytes, %g submissions/s per key, burst %g)",
             LB_VERSION_STRING, addr == (const struct sockaddr *)&addr6 ? "[" : "", config->listen,
             addr == (const struct sockaddr *)&addr6 ? "]" : "", port, config->db_path,
             lb_store_schema_version(srv.store), config->threads, config->max_body, config->rate, config->burst);

    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    log_line("stopping on %s: finishing the requests in progress", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    MHD_stop_daemon(daemon);
    daemon = NULL;
cleanup:
    if (daemon)
        MHD_stop_daemon(daemon);
    lb_ratelimit_free(srv.ratelimit);
    lb_store_close(srv.store);
    if (st == TT_OK)
        log_line("stopped");
    if (log_file != stderr)
        fclose(log_file);
    log_file = stderr;
    return st;
}
