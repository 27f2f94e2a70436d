/*
 * c-fixture: a complete mix2api driver in plain C11, to prove the ABI needs nothing but the
 * header. It answers every request with N text deltas "c1".."cN", `delay_us` apart, then
 * FINISH stop, each stream on its own detached thread; cancel makes that thread end the stream
 * with FINISH cancelled.
 *
 * Config: {} or {"deltas": N, "delay_us": M} (defaults 5 and 1000). A config containing the key
 * "fail" is rejected, so the host's config-error path can be tested with a real driver.
 */
#define _DEFAULT_SOURCE /* usleep */
#include "mix2api_driver.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE_NAME "c-fixture"
#define FIXTURE_VERSION "1.0.0"
#define FIXTURE_MAX_DELTAS 1000000L

typedef struct fx_stream {
    struct fx_stream *next;  /* in the instance's list of running streams, under its mutex */
    m2a_instance *instance;
    m2a_stream_id id;
    atomic_bool cancelled;
    atomic_bool ended;       /* the terminal was claimed: compare-exchange false -> true */
} fx_stream;

struct m2a_instance {
    const m2a_host_api *host;
    long deltas;
    long delay_us;
    pthread_mutex_t lock;
    fx_stream *streams;      /* running streams; cancel looks them up here */
    uint64_t active;         /* under lock */
};

/* ---- config ---------------------------------------------------------------------------------- */

/* Finds `"key"` followed by `:` and reads a non-negative integer. A hand scan, not a JSON parser:
 * enough for a fixture whose config is written by the tests. Returns false on a bad value. */
static bool fx_config_long(const char *json, const char *key, long max, long *out) {
    char quoted[32];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *at = strstr(json, quoted);
    if (at == NULL) return true; /* absent: keep the default */
    at += strlen(quoted);
    while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r') at++;
    if (*at != ':') return false;
    at++;
    while (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r') at++;
    if (*at < '0' || *at > '9') return false; /* no sign, no string, no bool */
    char *end = NULL;
    long value = strtol(at, &end, 10);
    if (end == at || value < 0 || value > max) return false;
    if (*end == '.' || *end == 'e' || *end == 'E') return false; /* not an integer */
    *out = value;
    return true;
}

static m2a_instance *fx_create(const m2a_host_api *host, m2a_str config_json, m2a_errbuf err) {
    if (host == NULL) {
        m2a_errbuf_set(err, "c-fixture: created without a host table");
        return NULL;
    }
    /* The config is borrowed and not NUL-terminated: copy it so the string functions stop. */
    char *json = malloc(config_json.len + 1);
    if (json == NULL) {
        m2a_errbuf_set(err, "c-fixture: out of memory");
        return NULL;
    }
    if (config_json.len > 0) memcpy(json, config_json.ptr, config_json.len);
    json[config_json.len] = '\0';

    const char *first = json;
    while (*first == ' ' || *first == '\t' || *first == '\n' || *first == '\r') first++;
    long deltas = 5, delay_us = 1000;
    const char *problem = NULL;
    if (*first != '\0' && *first != '{') {
        problem = "config: must be a JSON object";
    } else if (strstr(json, "\"fail\"") != NULL) {
        problem = "fail: this fixture was told to reject its config";
    } else if (!fx_config_long(json, "deltas", FIXTURE_MAX_DELTAS, &deltas)) {
        problem = "deltas: must be an integer from 0 to 1000000";
    } else if (!fx_config_long(json, "delay_us", 60L * 1000 * 1000, &delay_us)) {
        problem = "delay_us: must be an integer from 0 to 60000000";
    }
    free(json);
    if (problem != NULL) {
        m2a_errbuf_set(err, problem);
        return NULL;
    }

    m2a_instance *instance = calloc(1, sizeof *instance);
    if (instance == NULL) {
        m2a_errbuf_set(err, "c-fixture: out of memory");
        return NULL;
    }
    instance->host = host;
    instance->deltas = deltas;
    instance->delay_us = delay_us;
    pthread_mutex_init(&instance->lock, NULL);
    return instance;
}

/* The host calls destroy only when no stream runs, so the list is empty; freeing what is left
 * anyway keeps a misbehaving host from turning into a leak report against the fixture. */
static void fx_destroy(m2a_instance *instance) {
    if (instance == NULL) return;
    pthread_mutex_lock(&instance->lock);
    fx_stream *s = instance->streams;
    instance->streams = NULL;
    pthread_mutex_unlock(&instance->lock);
    while (s != NULL) {
        fx_stream *next = s->next;
        free(s);
        s = next;
    }
    pthread_mutex_destroy(&instance->lock);
    free(instance);
}

static void fx_capabilities(m2a_instance *instance, m2a_capabilities *out) {
    (void)instance;
    if (out == NULL) return;
    /* Only write what the host's view of the struct has room for. */
    if (out->struct_size >= offsetof(m2a_capabilities, flags) + sizeof out->flags)
        out->flags = M2A_CAP_STREAMING;
    if (out->struct_size >= offsetof(m2a_capabilities, max_concurrent_streams) + sizeof out->max_concurrent_streams)
        out->max_concurrent_streams = 0;
}

/* ---- streams --------------------------------------------------------------------------------- */

static void fx_emit_text(fx_stream *s, const char *text) {
    m2a_event e = m2a_event_make(M2A_EVENT_TEXT_DELTA);
    e.text.ptr = text;
    e.text.len = strlen(text);
    s->instance->host->emit(s->instance->host->ctx, s->id, &e);
}

/* Sends the stream's one terminal and frees it. The compare-exchange makes a second call a
 * no-op even if a later change adds another path to the terminal. */
/* Removes a stream from the instance's list and count. */
static void fx_unlink(m2a_instance *instance, fx_stream *s) {
    pthread_mutex_lock(&instance->lock);
    for (fx_stream **link = &instance->streams; *link != NULL; link = &(*link)->next) {
        if (*link == s) {
            *link = s->next;
            break;
        }
    }
    instance->active--;
    pthread_mutex_unlock(&instance->lock);
}

static void fx_end(fx_stream *s, uint32_t reason) {
    bool expected = false;
    if (!atomic_compare_exchange_strong(&s->ended, &expected, true)) return;

    m2a_instance *instance = s->instance;
    const m2a_host_api *host = instance->host;
    /* Unlink before the terminal is seen: once the host has it, active_streams must not count
     * this stream, and cancel must not find it. */
    fx_unlink(instance, s);

    m2a_event e = m2a_event_make(M2A_EVENT_FINISH);
    e.finish_reason = reason;
    m2a_stream_id id = s->id;
    free(s);
    host->emit(host->ctx, id, &e);
}

static void *fx_run(void *arg) {
    fx_stream *s = arg;
    long deltas = s->instance->deltas, delay_us = s->instance->delay_us;
    char text[32];
    for (long i = 1; i <= deltas; i++) {
        if (atomic_load(&s->cancelled)) break;
        if (i > 1 && delay_us > 0) usleep((useconds_t)delay_us);
        if (atomic_load(&s->cancelled)) break;
        snprintf(text, sizeof text, "c%ld", i);
        fx_emit_text(s, text);
    }
    fx_end(s, atomic_load(&s->cancelled) ? M2A_FINISH_CANCELLED : M2A_FINISH_STOP);
    return NULL;
}

static int32_t fx_start(m2a_instance *instance, m2a_stream_id id, m2a_str request_json) {
    (void)request_json; /* every request gets the same answer */
    if (instance == NULL || id == 0) return M2A_ERR_INVALID;
    fx_stream *s = calloc(1, sizeof *s);
    if (s == NULL) return M2A_ERR_INTERNAL;
    s->instance = instance;
    s->id = id;
    atomic_init(&s->cancelled, false);
    atomic_init(&s->ended, false);

    pthread_mutex_lock(&instance->lock);
    for (fx_stream *other = instance->streams; other != NULL; other = other->next) {
        if (other->id == id) { /* the host reused a running id */
            pthread_mutex_unlock(&instance->lock);
            free(s);
            return M2A_ERR_INVALID;
        }
    }
    s->next = instance->streams;
    instance->streams = s;
    instance->active++;
    pthread_mutex_unlock(&instance->lock);

    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&thread, &attr, fx_run, s);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        /* No thread, so no event will come: undo the registration and say so. */
        fx_unlink(instance, s);
        free(s);
        return M2A_ERR_INTERNAL;
    }
    return M2A_OK;
}

/* Only raises the flag, under the lock that fx_end takes to unlink, so the stream cannot be
 * freed while it is being flagged. The stream's thread sends the terminal: all of a stream's
 * events then come from one thread, in order. */
static void fx_cancel(m2a_instance *instance, m2a_stream_id id) {
    if (instance == NULL) return;
    pthread_mutex_lock(&instance->lock);
    for (fx_stream *s = instance->streams; s != NULL; s = s->next) {
        if (s->id == id) {
            atomic_store(&s->cancelled, true);
            break;
        }
    }
    pthread_mutex_unlock(&instance->lock);
}

static uint64_t fx_active_streams(m2a_instance *instance) {
    if (instance == NULL) return 0;
    pthread_mutex_lock(&instance->lock);
    uint64_t n = instance->active;
    pthread_mutex_unlock(&instance->lock);
    return n;
}

/* ---- entry ----------------------------------------------------------------------------------- */

static const m2a_driver_api fx_table = {
    .struct_size = sizeof(m2a_driver_api),
    .abi_major = M2A_ABI_VERSION_MAJOR,
    .abi_minor = M2A_ABI_VERSION_MINOR,
    .name = FIXTURE_NAME,
    .build_version = FIXTURE_VERSION,
    .create = fx_create,
    .destroy = fx_destroy,
    .capabilities = fx_capabilities,
    .start = fx_start,
    .cancel = fx_cancel,
    .active_streams = fx_active_streams,
};

__attribute__((visibility("default")))
const m2a_driver_api *mix2api_driver_entry(uint32_t host_abi_major, uint32_t host_abi_minor, m2a_errbuf err) {
    if (host_abi_major != M2A_ABI_VERSION_MAJOR) {
        char message[160];
        snprintf(message, sizeof message,
                 FIXTURE_NAME " implements ABI %u.%u, host speaks %u.%u: major versions differ",
                 (unsigned)M2A_ABI_VERSION_MAJOR, (unsigned)M2A_ABI_VERSION_MINOR,
                 (unsigned)host_abi_major, (unsigned)host_abi_minor);
        m2a_errbuf_set(err, message);
        return NULL;
    }
    /* Test hook: pretend to be built for another major version, so the host's own check (a
     * driver that accepts the host but reports an incompatible table) can be exercised. */
    const char *fake = getenv("CFIXTURE_FAKE_ABI_MAJOR");
    if (fake != NULL && *fake != '\0') {
        static m2a_driver_api faked;
        faked = fx_table;
        faked.abi_major = (uint32_t)strtoul(fake, NULL, 10);
        return &faked;
    }
    return &fx_table;
}
