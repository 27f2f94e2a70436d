/*
 * mix2api driver ABI, version 1.0.
 *
 * This header is the whole contract between the mix2api host and an upstream driver (a shared
 * library loaded with dlopen). Nothing else crosses: no Swift, no NIO, no C++ types. Read
 * Sources/PluginABI/README.md for the life of a stream and a worked example.
 *
 * Conventions used throughout:
 * - Every struct that may grow starts with `struct_size` (bytes). The writer sets it to
 *   sizeof(its own view of the struct); the reader only touches fields that lie inside it.
 *   Minor versions only append fields, so old drivers keep working with new hosts and back.
 * - Strings are `m2a_str`: UTF-8, pointer + length, NOT NUL-terminated unless stated. A string
 *   handed to a callee is BORROWED: valid only for the duration of that call. Copy what you keep.
 * - "owner:" lines say who allocates, who frees and how long a pointer lives.
 * - Return codes are `int32_t`: 0 (M2A_OK) for success, a negative M2A_ERR_* otherwise.
 */
#ifndef MIX2API_DRIVER_H
#define MIX2API_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ------------------------------------------------------------------------------ */

/* A major change breaks compatibility and is refused on both sides; a minor one only appends. */
#define M2A_ABI_VERSION_MAJOR 1u
#define M2A_ABI_VERSION_MINOR 1u

/* The one symbol a driver exports (see m2a_driver_entry_fn at the end). */
#define M2A_DRIVER_ENTRY_SYMBOL "mix2api_driver_entry"

/* ---- Basic types --------------------------------------------------------------------------- */

typedef struct m2a_str {
    const char *ptr; /* may be NULL when len == 0 */
    size_t len;
} m2a_str;

/* A buffer the HOST allocated and hands to the driver (state_get, lock tokens).
 * owner: the driver must release it with m2a_host_api.buf_free exactly once. */
typedef struct m2a_buf {
    char *ptr;
    size_t len;
} m2a_buf;

/* A caller-provided buffer for an error message (entry, create). The callee writes at most
 * `cap` bytes including a terminating NUL. owner: the caller; borrowed for the call. */
typedef struct m2a_errbuf {
    char *ptr;
    size_t cap;
} m2a_errbuf;

/* Opaque driver instance. owner: the driver; lives from create() until destroy(). */
typedef struct m2a_instance m2a_instance;

/* Streams are named by a host-chosen id, never by a pointer, so that a driver that emits after
 * the end of a stream gets M2A_ERR_STREAM_CLOSED instead of touching freed memory. 0 is never a
 * stream id (log() uses it for "no stream"). */
typedef uint64_t m2a_stream_id;

typedef enum m2a_status {
    M2A_OK = 0,
    M2A_ERR_STREAM_CLOSED = -1,   /* emit on a stream that already had its terminal event */
    M2A_ERR_UNKNOWN_STREAM = -2,  /* the id was never started here */
    M2A_ERR_INVALID = -3,         /* a malformed argument (bad struct_size, bad kind, bad UTF-8) */
    M2A_ERR_NOT_FOUND = -4,       /* state_get: no such key (or expired, or unreadable) */
    M2A_ERR_BUSY = -5,            /* state_lock: somebody else holds the lock */
    M2A_ERR_UNAVAILABLE = -6,     /* state backend unreachable and no fallback could answer */
    M2A_ERR_INTERNAL = -7         /* anything else; the callee logged why */
} m2a_status;

/* ---- Events: driver -> host (hot path, typed, no JSON) ---------------------------------------- */

typedef enum m2a_event_kind {
    M2A_EVENT_TEXT_DELTA = 1,       /* text: a piece of the answer */
    M2A_EVENT_REASONING_DELTA = 2,  /* text: a piece of the model's reasoning */
    M2A_EVENT_TOOL_CALL_START = 3,  /* index, id (may be empty: the host then makes one), name */
    M2A_EVENT_TOOL_CALL_ARGS = 4,   /* index, text: a fragment of the arguments JSON */
    M2A_EVENT_TOOL_CALL_END = 5,    /* index: the arguments are complete */
    M2A_EVENT_USAGE = 6,            /* prompt_tokens, completion_tokens (<= 0 = unknown) */
    M2A_EVENT_SESSION = 7,          /* text: upstream session id, id: upstream exchange id */
    M2A_EVENT_UPSTREAM_STATUS = 8,  /* upstream_status: the upstream's HTTP status (for logs) */
    M2A_EVENT_FINISH = 9,           /* TERMINAL. finish_reason */
    M2A_EVENT_ERROR = 10            /* TERMINAL. error_kind, upstream_status, retry_after_ms, text */
} m2a_event_kind;

typedef enum m2a_finish_reason {
    M2A_FINISH_STOP = 1,
    M2A_FINISH_LENGTH = 2,
    M2A_FINISH_TOOL_CALLS = 3,      /* only valid when TOOL_CALL_* events were sent */
    M2A_FINISH_CONTENT_FILTER = 4,
    M2A_FINISH_CANCELLED = 5        /* the answer to cancel(): the stream ends, nothing failed */
} m2a_finish_reason;

typedef enum m2a_error_kind {
    M2A_ERROR_UPSTREAM = 1,         /* the upstream failed or answered garbage (HTTP 502) */
    M2A_ERROR_UPSTREAM_AUTH = 2,    /* the upstream refused our credentials (HTTP 503) */
    M2A_ERROR_RATE_LIMITED = 3,     /* the upstream rate-limited us (HTTP 429 + Retry-After) */
    M2A_ERROR_TIMEOUT = 4,          /* the upstream did not answer in time (HTTP 503) */
    M2A_ERROR_UNAVAILABLE = 5,      /* the upstream cannot be reached at all (HTTP 503) */
    M2A_ERROR_INVALID_REQUEST = 6,  /* the request cannot be served as asked (HTTP 400) */
    M2A_ERROR_CONTEXT_LENGTH = 7,   /* the conversation does not fit the model (HTTP 400) */
    M2A_ERROR_DRIVER = 8            /* a bug or broken state inside the driver (HTTP 500) */
} m2a_error_kind;

/* One event. The driver fills it (stack memory is fine) and calls host->emit.
 * owner: the driver; every m2a_str inside is borrowed for the duration of emit() only.
 * Fields not used by `kind` must be zero (a zeroed struct is always a valid start). */
typedef struct m2a_event {
    uint32_t struct_size;           /* sizeof(m2a_event) as the driver was compiled */
    uint32_t kind;                  /* m2a_event_kind */
    m2a_str text;                   /* delta text, argument fragment, session id, error message */
    m2a_str id;                     /* tool call id, exchange id */
    m2a_str name;                   /* tool name */
    uint32_t index;                 /* tool call index: 0, 1, 2... in order of TOOL_CALL_START */
    uint32_t finish_reason;         /* m2a_finish_reason (FINISH) */
    uint32_t error_kind;            /* m2a_error_kind (ERROR) */
    int32_t upstream_status;        /* upstream HTTP status, 0 when none */
    int64_t prompt_tokens;          /* USAGE; <= 0 = unknown: the host estimates */
    int64_t completion_tokens;      /* USAGE; <= 0 = unknown: the host estimates */
    int64_t retry_after_ms;         /* ERROR with RATE_LIMITED; 0 = not given */
} m2a_event;

/* ---- Host services: host -> driver ------------------------------------------------------------ */

typedef enum m2a_log_level {
    M2A_LOG_DEBUG = 1,
    M2A_LOG_INFO = 2,
    M2A_LOG_WARN = 3,
    M2A_LOG_ERROR = 4
} m2a_log_level;

/* The table of host functions. owner: the host; valid from create() until destroy() returns.
 * Every function is thread-safe and may be called from any thread, including threads the host
 * has never seen. `ctx` is opaque: pass it back unchanged. */
typedef struct m2a_host_api {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    void *ctx;

    /* Deliver one event of a stream. Never blocks (the host queues). Exactly one terminal event
     * (FINISH or ERROR) ends the stream; after it every emit returns M2A_ERR_STREAM_CLOSED.
     * Returns M2A_OK, or an M2A_ERR_* and drops the event. */
    int32_t (*emit)(void *ctx, m2a_stream_id stream, const m2a_event *event);

    /* A log line. The host adds the driver name, and the request id when `stream` is not 0.
     * The driver must not put secrets in `message`; the host redacts what it recognises anyway. */
    void (*log)(void *ctx, m2a_stream_id stream, uint32_t level, m2a_str message);

    /* Add `delta` to the driver counter `name` ([a-z0-9_], at most 64 bytes; the host exports it
     * as mix2api_driver_<name>_total with a driver label and refuses new names past a small cap). */
    void (*counter_add)(void *ctx, m2a_str name, uint64_t delta);

    /* Clocks: wall time in ms since the Unix epoch, and a monotonic clock in ns. */
    int64_t (*wall_ms)(void *ctx);
    uint64_t (*monotonic_ns)(void *ctx);

    /* Shared state (in memory, or Redis shared by every instance). May block for up to the
     * store's timeout: call these from the driver's own threads, never from start() or cancel()
     * (unless state_flags has M2A_STATE_NEVER_BLOCKS: then from start() too).
     * Keys are driver-relative; the host prefixes them with the store prefix and driver name.
     *
     * state_get: on M2A_OK, *out receives a host-allocated copy of the value.
     *   owner: the driver releases *out with buf_free. On any error *out is {NULL, 0}.
     * state_set: stores a copy of value; ttl_ms > 0 is required (nothing lives forever).
     * state_delete: removing a missing key is M2A_OK.
     * state_lock: a lock with expiry, for single-flight work across instances. On M2A_OK,
     *   *token receives the holder token (owner: driver, buf_free it after state_unlock);
     *   M2A_ERR_BUSY when held by another. state_unlock only releases a lock whose token matches. */
    int32_t (*state_get)(void *ctx, m2a_str key, m2a_buf *out);
    int32_t (*state_set)(void *ctx, m2a_str key, m2a_str value, uint64_t ttl_ms);
    int32_t (*state_delete)(void *ctx, m2a_str key);
    int32_t (*state_lock)(void *ctx, m2a_str key, uint64_t ttl_ms, m2a_buf *token);
    int32_t (*state_unlock)(void *ctx, m2a_str key, m2a_str token);
    void (*buf_free)(void *ctx, m2a_buf *buf);

    /* ABI 1.1 (read it only when struct_size covers it): M2A_STATE_* flags. */
    uint32_t state_flags;
} m2a_host_api;

typedef enum m2a_state_flag {
    /* State calls answer from this process's memory and never block (no Redis behind them): a
     * driver may then make them from start(), e.g. to send its upstream request without first
     * handing the work to a thread of its own. */
    M2A_STATE_NEVER_BLOCKS = 1u << 0
} m2a_state_flag;

/* ---- The driver table: driver -> host --------------------------------------------------------- */

typedef enum m2a_capability_flag {
    M2A_CAP_STREAMING = 1u << 0,    /* the upstream streams (otherwise events come in one burst) */
    M2A_CAP_NATIVE_TOOLS = 1u << 1, /* the upstream emits real tool calls: the host then sends
                                       the tools in the request and skips its text protocol */
    M2A_CAP_REASONING = 1u << 2     /* the driver may emit REASONING_DELTA */
} m2a_capability_flag;

typedef struct m2a_capabilities {
    uint32_t struct_size;           /* set by the HOST before the call */
    uint32_t flags;                 /* M2A_CAP_* */
    uint32_t max_concurrent_streams; /* 0 = no limit of its own */
} m2a_capabilities;

typedef struct m2a_driver_api {
    uint32_t struct_size;
    uint32_t abi_major;             /* the ABI the driver was built against */
    uint32_t abi_minor;
    const char *name;               /* NUL-terminated, static: lives while the library is loaded */
    const char *build_version;      /* NUL-terminated, static, e.g. "1.4.2+abc123" */

    /* Make an instance from its configuration (a JSON object, borrowed for the call; `${ENV}`
     * substitution already done by the host). `host` stays valid until destroy() returns.
     * On failure returns NULL and writes a message naming the bad field into `err`. */
    m2a_instance *(*create)(const m2a_host_api *host, m2a_str config_json, m2a_errbuf err);

    /* Free the instance. The host calls it only when no stream is running. */
    void (*destroy)(m2a_instance *instance);

    /* Fill *out (the host set out->struct_size). */
    void (*capabilities)(m2a_instance *instance, m2a_capabilities *out);

    /* Begin one answer. `request_json` (borrowed for the call) is the canonical request, see the
     * README. MUST NOT block: do the work on the driver's own threads and return at once.
     * Returns M2A_OK, after which exactly one terminal event will be emitted for `stream`
     * (also after cancel); or an M2A_ERR_* after which no event at all will be emitted. */
    int32_t (*start)(m2a_instance *instance, m2a_stream_id stream, m2a_str request_json);

    /* Stop a stream as soon as possible (the client went away, or a timeout). Idempotent, safe at
     * any time, from any thread, also for a stream that already ended or was never started. Must
     * not block. The driver still emits the stream's terminal event if it has not yet (FINISH
     * with M2A_FINISH_CANCELLED, or whatever terminal was already on its way). */
    void (*cancel)(m2a_instance *instance, m2a_stream_id stream);

    /* Streams started and not yet terminated, as the driver counts them (leak checks). */
    uint64_t (*active_streams)(m2a_instance *instance);
} m2a_driver_api;

/* The exported entry point, named M2A_DRIVER_ENTRY_SYMBOL. The host passes its ABI version; a
 * driver with another major version returns NULL and writes both versions into `err`. On success
 * returns a table that lives as long as the library stays loaded (owner: the driver, static). */
typedef const m2a_driver_api *(*m2a_driver_entry_fn)(uint32_t host_abi_major, uint32_t host_abi_minor,
                                                     m2a_errbuf err);

/* Helpers shared by C drivers and the host (defined in abi.c). */

/* Writes a NUL-terminated message into err, truncating safely. No-op when err.cap == 0. */
void m2a_errbuf_set(m2a_errbuf err, const char *message);

/* A zeroed event of `kind` with struct_size filled in. */
m2a_event m2a_event_make(uint32_t kind);

#ifdef __cplusplus
}
#endif

#endif /* MIX2API_DRIVER_H */
