// relay-floor: the least work any gateway can do per streamed chunk, as a measuring stick.
//
// A single-threaded epoll TCP relay: every byte a client sends goes to the upstream and every
// byte the upstream sends goes back, unread and unchanged. No HTTP, no parsing, no encoding, one
// thread, so a chunk costs one epoll wake, one read and one write. bench/run.sh puts it where
// mix2api sits (same core, same load, same upstream stream) and reports its CPU per chunk as the
// floor: what the machine's loopback TCP and scheduler charge a relay per chunk before the relay
// does anything of its own (README "Performance").
//
//   relay-floor --upstream 127.0.0.1:PORT [--port 0]
//   → prints "relay-floor listening on 127.0.0.1:PORT" once it accepts connections.
//
// Not for production: it trusts its loopback peers and keeps at most one pending buffer per
// direction (a direction stops reading while its write is pending, which is TCP's own back
// pressure passed through).

#define _GNU_SOURCE  // accept4
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUFFER_BYTES = 16384, MAX_EVENTS = 256 };

// One direction of a relayed connection: bytes read from `from` are written to `to`.
struct side {
    int fd;
    struct side *peer;
    struct pair *owner;
    char *pending;      // bytes read from this side's peer, not yet written to this side
    size_t pending_len;
    size_t pending_off;
    int read_closed;    // this side sent EOF
    int write_closed;   // we shut down writing to this side
};

struct pair {
    struct side client, upstream;
    int dead;           // closed during this batch of events; freed after it
    struct pair *next_dead;
};

static int epfd;
static struct pair *dead_pairs;

static void die(const char *what) {
    fprintf(stderr, "relay-floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl");
}

// A TCP port, 0 allowed only when `allow_zero` (listen on any free port); -1 when not one.
static int parse_port(const char *text, int allow_zero) {
    char *end;
    long port = strtol(text, &end, 10);
    if (*text == 0 || *end != 0 || port < (allow_zero ? 0 : 1) || port > 65535) return -1;
    return (int)port;
}

static int parse_addr(const char *text, struct sockaddr_in *addr) {
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host) return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    int port = parse_port(colon + 1, 0);
    if (port < 0) return -1;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((unsigned short)port);
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

// Interest for a side: read unless its peer still has bytes pending from it; write while pending.
static void update_interest(struct side *s, int op) {
    struct epoll_event ev = {0};
    ev.data.ptr = s;
    if (!s->read_closed && s->peer->pending == NULL) ev.events |= EPOLLIN;
    if (s->pending != NULL) ev.events |= EPOLLOUT;
    if (epoll_ctl(epfd, op, s->fd, &ev) < 0 && op == EPOLL_CTL_ADD) die("epoll_ctl");
}

// Closing removes both sockets from epoll, but this batch may still hold an event for the other
// side: the memory is freed only after the batch.
static void close_pair(struct pair *p) {
    if (p->dead) return;
    p->dead = 1;
    close(p->client.fd);
    close(p->upstream.fd);
    p->next_dead = dead_pairs;
    dead_pairs = p;
}

static void free_dead_pairs(void) {
    while (dead_pairs) {
        struct pair *p = dead_pairs;
        dead_pairs = p->next_dead;
        free(p->client.pending);
        free(p->upstream.pending);
        free(p);
    }
}

static int finished(struct side *s) {
    return s->read_closed && s->peer->read_closed && s->pending == NULL && s->peer->pending == NULL;
}

// Writes what is pending for `s`; returns -1 when the connection failed.
static int flush_pending(struct side *s) {
    while (s->pending_off < s->pending_len) {
        ssize_t n = write(s->fd, s->pending + s->pending_off, s->pending_len - s->pending_off);
        if (n < 0 && errno == EAGAIN) return 0;
        if (n <= 0) return -1;
        s->pending_off += (size_t)n;
    }
    free(s->pending);
    s->pending = NULL;
    s->pending_len = s->pending_off = 0;
    if (s->peer->read_closed && !s->write_closed) { shutdown(s->fd, SHUT_WR); s->write_closed = 1; }
    return 0;
}

// Reads what `s` sent and writes it to its peer; returns -1 when the connection failed.
static int relay_from(struct side *s) {
    char buffer[BUFFER_BYTES];
    struct side *to = s->peer;
    // Bytes still wait for `to` (a hang-up reports even without read interest): keep the order.
    if (to->pending != NULL) return 0;
    for (;;) {
        ssize_t n = read(s->fd, buffer, sizeof buffer);
        if (n < 0 && errno == EAGAIN) return 0;
        if (n < 0) return -1;
        if (n == 0) {
            s->read_closed = 1;
            if (to->pending == NULL && !to->write_closed) { shutdown(to->fd, SHUT_WR); to->write_closed = 1; }
            return 0;
        }
        ssize_t w = write(to->fd, buffer, (size_t)n);
        if (w < 0 && errno != EAGAIN) return -1;
        if (w < 0) w = 0;
        if (w < n) {
            to->pending = malloc((size_t)(n - w));
            if (!to->pending) return -1;
            memcpy(to->pending, buffer + w, (size_t)(n - w));
            to->pending_len = (size_t)(n - w);
            return 0;
        }
        if (n < (ssize_t)sizeof buffer) return 0;  // drained (level-triggered: epoll says if more)
    }
}

static void accept_all(int listener, const struct sockaddr_in *upstream) {
    for (;;) {
        int cfd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EINTR) perror("relay-floor: accept");
            return;
        }
        int ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (ufd < 0) { close(cfd); continue; }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(ufd, (const struct sockaddr *)upstream, sizeof *upstream) < 0 && errno != EINPROGRESS) {
            perror("relay-floor: connect");
            close(cfd); close(ufd);
            continue;
        }
        struct pair *p = calloc(1, sizeof *p);
        if (!p) { close(cfd); close(ufd); continue; }
        p->client.fd = cfd; p->client.peer = &p->upstream; p->client.owner = p;
        p->upstream.fd = ufd; p->upstream.peer = &p->client; p->upstream.owner = p;
        update_interest(&p->client, EPOLL_CTL_ADD);
        update_interest(&p->upstream, EPOLL_CTL_ADD);
    }
}

int main(int argc, char **argv) {
    const char *upstream_text = NULL;
    int port = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--upstream") && i + 1 < argc) upstream_text = argv[++i];
        else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = parse_port(argv[++i], 1);
            if (port < 0) { fprintf(stderr, "relay-floor: --port must be 0..65535, got '%s'\n", argv[i]); return 2; }
        } else { fprintf(stderr, "usage: relay-floor --upstream HOST:PORT [--port N]\n"); return 2; }
    }
    struct sockaddr_in upstream;
    if (!upstream_text || parse_addr(upstream_text, &upstream) < 0) {
        fprintf(stderr, "relay-floor: --upstream must be an IPv4 HOST:PORT, got '%s'\n", upstream_text ? upstream_text : "");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (listener < 0) die("socket");
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in local = {0};
    local.sin_family = AF_INET;
    local.sin_port = htons((unsigned short)port);
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&local, sizeof local) < 0) die("bind");
    if (listen(listener, 4096) < 0) die("listen");
    socklen_t len = sizeof local;
    if (getsockname(listener, (struct sockaddr *)&local, &len) < 0) die("getsockname");

    epfd = epoll_create1(0);
    if (epfd < 0) die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &lev) < 0) die("epoll_ctl");
    printf("relay-floor listening on 127.0.0.1:%d\n", ntohs(local.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct side *s = events[i].data.ptr;
            if (s == NULL) { accept_all(listener, &upstream); continue; }
            if (s->owner->dead) continue;
            uint32_t ev = events[i].events;
            int failed = 0;
            if (ev & EPOLLOUT) failed = flush_pending(s) < 0;
            if (!failed && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) failed = relay_from(s) < 0;
            // A hung-up socket can neither send nor take more: what it sent was relayed above.
            if (failed || finished(s) || (ev & (EPOLLHUP | EPOLLERR))) { close_pair(s->owner); continue; }
            update_interest(s, EPOLL_CTL_MOD);
            update_interest(s->peer, EPOLL_CTL_MOD);
        }
        free_dead_pairs();
    }
}
