/* epoll/eventfd and curl's multi_socket entry points for the site driver's engine loop. */
#ifndef MIX2API_SOCKET_EVENTS_H
#define MIX2API_SOCKET_EVENTS_H
#include <curl/curl.h>

int m2a_epoll_create(void);
/* Watch fd for reading and/or writing (both 0: stop watching). Adds or modifies as needed. */
int m2a_epoll_watch(int ep, int fd, int in, int out);
/* Waits up to timeout_ms; fills fds[i] and curl_masks[i] (CURL_CSELECT_*) for each ready fd.
 * Returns how many (0 on timeout or EINTR), -1 on error. At most 256 per call. */
int m2a_epoll_wait(int ep, int *fds, int *curl_masks, int max, int timeout_ms);
int m2a_eventfd_create(void);
void m2a_eventfd_signal(int fd);
void m2a_eventfd_drain(int fd);

CURLMcode m2a_curl_multi_setopt_ptr(CURLM *multi, CURLMoption option, void *value);
CURLMcode m2a_curl_multi_setopt_socketfunction(CURLM *multi, int (*callback)(CURL *, curl_socket_t, int, void *, void *));
CURLMcode m2a_curl_multi_setopt_timerfunction(CURLM *multi, int (*callback)(CURLM *, long, void *));
CURLMcode m2a_curl_multi_socket_action(CURLM *multi, curl_socket_t fd, int mask, int *running);
#endif
