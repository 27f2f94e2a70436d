/* epoll and eventfd for the site driver's event-driven curl loop (multi_socket API). In C because
 * glibc's epoll_event is a packed struct, which Swift does not import reliably. */
#include "socket_events.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int m2a_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int m2a_epoll_watch(int ep, int fd, int in, int out) {
    if (!in && !out) return epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    struct epoll_event ev = {0};
    ev.events = (in ? EPOLLIN : 0) | (out ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
    if (errno != ENOENT) return -1;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int m2a_epoll_wait(int ep, int *fds, int *curl_masks, int max, int timeout_ms) {
    struct epoll_event events[256];
    if (max > 256) max = 256;
    int n = epoll_wait(ep, events, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        int mask = 0;
        if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        fds[i] = events[i].data.fd;
        curl_masks[i] = mask;
    }
    return n < 0 ? (errno == EINTR ? 0 : -1) : n;
}

int m2a_eventfd_create(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void m2a_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof one);
    (void)ignored;
}

void m2a_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t ignored = read(fd, &value, sizeof value);
    (void)ignored;
}

CURLMcode m2a_curl_multi_setopt_ptr(CURLM *multi, CURLMoption option, void *value) { return curl_multi_setopt(multi, option, value); }
CURLMcode m2a_curl_multi_setopt_socketfunction(CURLM *multi, int (*callback)(CURL *, curl_socket_t, int, void *, void *)) {
    return curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, callback);
}
CURLMcode m2a_curl_multi_setopt_timerfunction(CURLM *multi, int (*callback)(CURLM *, long, void *)) {
    return curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, callback);
}
CURLMcode m2a_curl_multi_socket_action(CURLM *multi, curl_socket_t fd, int mask, int *running) {
    return curl_multi_socket_action(multi, fd, mask, running);
}
