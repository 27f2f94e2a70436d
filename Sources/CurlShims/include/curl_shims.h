/* Typed wrappers for libcurl's variadic functions, which Swift cannot call directly. */
#ifndef MIX2API_CURL_SHIMS_H
#define MIX2API_CURL_SHIMS_H

#include <curl/curl.h>

CURLcode m2a_curl_setopt_long(CURL *easy, CURLoption option, long value);
CURLcode m2a_curl_setopt_ptr(CURL *easy, CURLoption option, void *value);
CURLcode m2a_curl_setopt_str(CURL *easy, CURLoption option, const char *value);
CURLcode m2a_curl_setopt_write(CURL *easy, size_t (*callback)(char *, size_t, size_t, void *));
CURLcode m2a_curl_setopt_header(CURL *easy, size_t (*callback)(char *, size_t, size_t, void *));
CURLcode m2a_curl_getinfo_long(CURL *easy, CURLINFO info, long *value);
CURLcode m2a_curl_getinfo_ptr(CURL *easy, CURLINFO info, void **value);
CURLMcode m2a_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);
/* The event-driven loop's pieces (epoll, eventfd, multi_socket). */
#include "socket_events.h"

#endif
