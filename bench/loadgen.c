/* loadgen.c — the benchmarks' HTTP load generator.
 *
 * wrk drives one request shape per connection; an agent's work is a sequence whose next
 * request depends on the previous answer (create -> Accept that id -> UpdateUserData ->
 * Complete).  This generator runs such sequences on N keep-alive connections with epoll,
 * each connection acting as one agent, closed loop (as fast as answers come) or open loop
 * at a fixed rate, where latency is measured from when each request was due, not when it
 * was sent (no coordinated omission).  Output: one JSON object.
 *
 *   loadgen -p PORT -c CONNS -d SECONDS [-r RATE] [-w WARMUP] -s SCENARIO [options]
 *     -s cycle   agent cycle; -b BASE (/bench/api/v2), -u PREFIX (agent login prefix),
 *                -f FEEDER login; connection i is agent PREFIX<i+1> and creates in queue q<i+1>
 *     -s get     GET PATH (-P) with credentials -U user:pass
 *     -s static  GET PATH (-P) without credentials
 *     -L FILE    write one line per answered request, warm-up included:
 *                "referenceId sent_us answered_us kind status" (referenceId 0 if the answer
 *                had none; times are CLOCK_MONOTONIC microseconds, the clock Node's
 *                process.hrtime uses, so other processes' timestamps compare with them)
 *
 * Open loop hands due requests to idle connections in turn (round robin), so every agent
 * works, not only the first ones.  A keep-alive connection the server closes while idle
 * (event MPM does that when all its workers are busy) is reopened and the request sent
 * again, as browsers do; a connection closed during an answer counts as an error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 4096
#define BUFSZ 65536

enum { S_CYCLE, S_GET, S_STATIC };
enum { K_CREATE, K_ACCEPT, K_UPDATE, K_COMPLETE, K_GET, K__N };
static const char *kind_names[K__N] = { "create", "accept", "update", "complete", "get" };

/* latency histogram: log-linear buckets over microseconds (1 us .. ~100 s) */
#define HB 2048
typedef struct { uint64_t n[HB]; uint64_t count; uint64_t max; } hist_t;
static int bucket(uint64_t us)
{
    int b = 0;
    while (us >= 128) { us >>= 1; b += 64; }
    b += (int)(us / 2);
    return b < HB ? b : HB - 1;
}
static uint64_t bucket_value(int b)
{
    int shift = b / 64, rem = b % 64;
    return (((uint64_t)rem * 2) + 1) << shift;
}
static void hist_add(hist_t *h, uint64_t us) { h->n[bucket(us)]++; h->count++; if (us > h->max) h->max = us; }
static uint64_t hist_pct(const hist_t *h, double p)
{
    uint64_t want = (uint64_t)(p * (double)h->count), seen = 0;
    int b;
    if (h->count == 0) return 0;
    for (b = 0; b < HB; b++) { seen += h->n[b]; if (seen > want) return bucket_value(b); }
    return h->max;
}

typedef struct {
    int fd;
    int idx;
    int kind;               /* request in flight */
    int step;               /* cycle step */
    char id[64];            /* interaction id of the cycle */
    char out[8192]; size_t out_len, out_off;
    char in[BUFSZ]; size_t in_len;
    uint64_t due_us;        /* when the request was due (open loop) or sent */
    uint64_t sent_us;       /* when it was actually sent */
    int busy;
} conn_t;

typedef struct { long long ref; uint64_t sent, done; int kind, status; } logrec_t;

static struct {
    int port, conns, scenario;
    double seconds, warmup, rate;
    const char *base, *prefix, *feeder, *path, *auth_user, *log;
    char feeder_auth[256], get_auth[256];
} opt = { 8080, 16, S_CYCLE, 10, 2, 0, "/bench/api/v2", "agent", "feeder", "/", NULL, NULL, "", "" };

static hist_t hist[K__N], hist_all;
static uint64_t ok_count, err_count, cycles, status_counts[6], reopened;
static int measuring;
static logrec_t *logv;
static size_t log_n, log_cap;

static void log_add(const conn_t *c, const char *body, size_t blen, int status, uint64_t done)
{
    const char *p;
    logrec_t *r;

    if (opt.log == NULL) return;
    if (log_n == log_cap) {
        log_cap = log_cap ? log_cap * 2 : 65536;
        logv = realloc(logv, log_cap * sizeof(*logv));
        if (logv == NULL) { perror("realloc"); exit(2); }
    }
    r = &logv[log_n++];
    p = memmem(body, blen, "\"referenceId\":", 14);
    r->ref = p != NULL ? strtoll(p + 14, NULL, 10) : 0;
    r->sent = c->sent_us;
    r->done = done;
    r->kind = c->kind;
    r->status = status;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static void base64(const char *in, char *out)
{
    size_t n = strlen(in), i, o = 0;
    for (i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

static void auth_of(const char *user, char *out)
{
    char cred[200];
    snprintf(cred, sizeof(cred), "%s:password", user);
    base64(cred, out);
}

static void build(conn_t *c)
{
    char body[512], auth[256], user[64], clen[32];
    const char *method = "GET", *path = opt.path, *a = NULL;
    int n;

    body[0] = '\0';
    if (opt.scenario == S_STATIC) {
        c->kind = K_GET;
    }
    else if (opt.scenario == S_GET) {
        c->kind = K_GET;
        a = opt.get_auth;
    }
    else {
        static char pbuf[512];
        snprintf(user, sizeof(user), "%s%d", opt.prefix, c->idx + 1);
        auth_of(user, auth);
        a = auth;
        method = "POST";
        c->kind = c->step;
        switch (c->step) {
        case K_CREATE:
            a = opt.feeder_auth;
            snprintf(pbuf, sizeof(pbuf), "%s/interactions", opt.base);
            snprintf(body, sizeof(body), "{\"mediaType\":\"email\",\"queueName\":\"q%d\",\"subject\":\"bench\","
                     "\"userData\":{\"customer\":%d}}", c->idx + 1, c->idx);
            break;
        case K_ACCEPT:
            snprintf(pbuf, sizeof(pbuf), "%s/me/interactions/%s", opt.base, c->id);
            snprintf(body, sizeof(body), "{\"operationName\":\"Accept\"}");
            break;
        case K_UPDATE:
            snprintf(pbuf, sizeof(pbuf), "%s/me/interactions/%s", opt.base, c->id);
            snprintf(body, sizeof(body), "{\"operationName\":\"UpdateUserData\",\"userData\":{\"note\":\"called back\",\"n\":%d}}", c->idx);
            break;
        default:
            snprintf(pbuf, sizeof(pbuf), "%s/me/interactions/%s", opt.base, c->id);
            snprintf(body, sizeof(body), "{\"operationName\":\"Complete\"}");
            break;
        }
        path = pbuf;
    }
    n = snprintf(c->out, sizeof(c->out), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s"
                 "%s%s%s\r\n%s", method, path,
                 a ? "Authorization: Basic " : "", a ? a : "", a ? "\r\n" : "",
                 body[0] ? "Content-Type: application/json\r\nContent-Length: " : "",
                 body[0] ? (snprintf(clen, sizeof(clen), "%zu", strlen(body)), clen) : "",
                 body[0] ? "\r\n" : "", body);
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->in_len = 0;
}

static int connect_one(void)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opt.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        perror("connect");
        exit(2);
    }
    return fd;
}

static void open_conn(int ep, conn_t *c)
{
    struct epoll_event ev;

    c->fd = connect_one();
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* The server closed the connection.  Idle, or before any byte of the answer: reopen and
 * send the request again.  During an answer: an error; the agent starts a new cycle. */
static void reopen(int ep, conn_t *c)
{
    close(c->fd);
    open_conn(ep, c);
    reopened++;
    if (c->busy && c->in_len == 0) {
        c->out_off = 0;
        return;       /* EPOLLOUT on the new connection sends it */
    }
    if (c->busy) {
        if (measuring) err_count++;
        c->busy = 0;
        c->step = K_CREATE;
    }
    c->in_len = 0;
}

/* A complete response in c->in?  Returns its status (and body pointer), 0 if incomplete. */
static int parse(conn_t *c, const char **pbody, size_t *plen)
{
    char *hend, *cl;
    size_t hlen, blen;
    int status;

    c->in[c->in_len] = '\0';
    hend = strstr(c->in, "\r\n\r\n");
    if (hend == NULL) return 0;
    hlen = (size_t)(hend - c->in) + 4;
    cl = strcasestr(c->in, "\r\nContent-Length:");
    blen = (cl != NULL && cl < hend) ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
    if (c->in_len < hlen + blen) return 0;
    status = atoi(c->in + 9);
    *pbody = c->in + hlen;
    *plen = blen;
    return status;
}

int main(int argc, char **argv)
{
    static conn_t conns[MAXC];
    struct epoll_event events[256];
    uint64_t start, warm_end, end, issued = 0, measure_start = 0;
    int ep, i, ch, next = 0;

    while ((ch = getopt(argc, argv, "p:c:d:r:w:s:b:u:f:P:U:L:")) != -1) {
        switch (ch) {
        case 'p': opt.port = atoi(optarg); break;
        case 'c': opt.conns = atoi(optarg); break;
        case 'd': opt.seconds = atof(optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 's': opt.scenario = !strcmp(optarg, "get") ? S_GET : !strcmp(optarg, "static") ? S_STATIC : S_CYCLE; break;
        case 'b': opt.base = optarg; break;
        case 'u': opt.prefix = optarg; break;
        case 'f': opt.feeder = optarg; break;
        case 'P': opt.path = optarg; break;
        case 'U': opt.auth_user = optarg; break;
        case 'L': opt.log = optarg; break;
        default: fprintf(stderr, "usage: see the header of loadgen.c\n"); return 2;
        }
    }
    if (opt.conns < 1 || opt.conns > MAXC) return 2;
    auth_of(opt.feeder, opt.feeder_auth);
    if (opt.auth_user != NULL) base64(opt.auth_user, opt.get_auth);
    ep = epoll_create1(0);
    for (i = 0; i < opt.conns; i++) {
        conns[i].idx = i;
        open_conn(ep, &conns[i]);
    }
    start = now_us();
    warm_end = start + (uint64_t)(opt.warmup * 1e6);
    end = warm_end + (uint64_t)(opt.seconds * 1e6);

    for (;;) {
        uint64_t t = now_us(), wait_us = 1000;
        struct timespec ts;
        int n;
        if (!measuring && t >= warm_end) {
            measuring = 1;
            measure_start = t;
            issued = 0;
        }
        if (t >= end) break;
        /* start requests on idle connections: at once (closed loop) or when due (open loop),
         * taking the connections in turn */
        for (int k = 0, first = next; k < opt.conns; k++) {
            conn_t *c = &conns[(first + k) % opt.conns];
            uint64_t due = t;
            if (c->busy) continue;
            if (opt.rate > 0) {
                uint64_t base_t = measuring ? measure_start : start;
                due = base_t + (uint64_t)((double)issued * 1e6 / opt.rate);
                if (due > t) { if (due - t < wait_us) wait_us = due - t; break; }
            }
            build(c);
            c->busy = 1;
            c->due_us = due;
            c->sent_us = t;
            issued++;
            next = (c->idx + 1) % opt.conns;
            {
                ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
                if (w > 0) c->out_off = (size_t)w;
            }
        }
        /* until an answer comes or, open loop, the next request is due (no busy waiting) */
        ts.tv_sec = 0;
        ts.tv_nsec = (long)wait_us * 1000;
        n = epoll_pwait2(ep, events, 256, &ts, NULL);
        for (i = 0; i < n; i++) {
            conn_t *c = events[i].data.ptr;
            if (c->busy && c->out_off < c->out_len) {
                ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                if (w > 0) c->out_off += (size_t)w;
            }
            for (;;) {
                ssize_t r = recv(c->fd, c->in + c->in_len, BUFSZ - 1 - c->in_len, 0);
                const char *body;
                size_t blen;
                int status;
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                    reopen(ep, c);
                    break;
                }
                if (r < 0) break;
                c->in_len += (size_t)r;
                status = parse(c, &body, &blen);
                if (status == 0) continue;
                {
                    uint64_t done = now_us(), lat = done - c->due_us;
                    log_add(c, body, blen, status, done);
                    if (measuring) {
                        hist_add(&hist[c->kind], lat);
                        hist_add(&hist_all, lat);
                        status_counts[status / 100 < 6 ? status / 100 : 5]++;
                    }
                    if (status == 200) {
                        if (measuring) ok_count++;
                    }
                    else {
                        if (measuring) err_count++;
                        static int shown;
                        if (shown++ < 5) fprintf(stderr, "HTTP %d: %.*s\n", status, (int)(blen < 300 ? blen : 300), body);
                    }
                }
                if (opt.scenario == S_CYCLE) {
                    if (status != 200) {
                        c->step = K_CREATE;       /* start a new cycle */
                    }
                    else if (c->step == K_CREATE) {
                        const char *p = strstr(body, "\"id\":\"");
                        if (p != NULL) {
                            size_t k = 0;
                            p += 6;
                            while (p[k] && p[k] != '"' && k < sizeof(c->id) - 1) { c->id[k] = p[k]; k++; }
                            c->id[k] = '\0';
                            c->step = K_ACCEPT;
                        }
                    }
                    else if (c->step == K_COMPLETE) {
                        c->step = K_CREATE;
                        if (measuring) cycles++;
                    }
                    else {
                        c->step++;
                    }
                }
                c->busy = 0;
                c->in_len = 0;
                break;
            }
        }
    }
    {
        double secs = (double)(now_us() - measure_start) / 1e6;
        struct rusage ru;
        int k;

        getrusage(RUSAGE_SELF, &ru);
        printf("{\"scenario\":\"%s\",\"connections\":%d,\"seconds\":%.2f,\"rate\":%.1f,\"cpu_s\":%.2f,"
               "\"requests\":%llu,\"errors\":%llu,\"reopened\":%llu,\"rps\":%.1f,\"cycles\":%llu,\"cps\":%.1f,"
               "\"p50_us\":%llu,\"p90_us\":%llu,\"p99_us\":%llu,\"max_us\":%llu,\"by_kind\":{",
               opt.scenario == S_CYCLE ? "cycle" : opt.scenario == S_GET ? "get" : "static",
               opt.conns, secs, opt.rate,
               (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
               + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
               (unsigned long long)(ok_count + err_count),
               (unsigned long long)err_count, (unsigned long long)reopened,
               (double)(ok_count + err_count) / secs,
               (unsigned long long)cycles, (double)cycles / secs,
               (unsigned long long)hist_pct(&hist_all, 0.5), (unsigned long long)hist_pct(&hist_all, 0.9),
               (unsigned long long)hist_pct(&hist_all, 0.99), (unsigned long long)hist_all.max);
        for (i = 0, k = 0; i < K__N; i++) {
            if (hist[i].count == 0) continue;
            printf("%s\"%s\":{\"n\":%llu,\"p50_us\":%llu,\"p99_us\":%llu}", k++ ? "," : "", kind_names[i],
                   (unsigned long long)hist[i].count, (unsigned long long)hist_pct(&hist[i], 0.5),
                   (unsigned long long)hist_pct(&hist[i], 0.99));
        }
        printf("}}\n");
    }
    if (opt.log != NULL) {
        FILE *f = fopen(opt.log, "w");
        size_t j;
        if (f == NULL) { perror(opt.log); return 2; }
        for (j = 0; j < log_n; j++) {
            fprintf(f, "%lld %llu %llu %s %d\n", logv[j].ref, (unsigned long long)logv[j].sent,
                    (unsigned long long)logv[j].done, kind_names[logv[j].kind], logv[j].status);
        }
        fclose(f);
    }
    return 0;
}
