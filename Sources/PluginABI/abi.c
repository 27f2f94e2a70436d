#include "mix2api_driver.h"

#include <string.h>

void m2a_errbuf_set(m2a_errbuf err, const char *message) {
    if (err.ptr == NULL || err.cap == 0) return;
    size_t n = message ? strlen(message) : 0;
    if (n >= err.cap) n = err.cap - 1;
    if (n > 0) memcpy(err.ptr, message, n);
    err.ptr[n] = '\0';
}

m2a_event m2a_event_make(uint32_t kind) {
    m2a_event e;
    memset(&e, 0, sizeof e);
    e.struct_size = (uint32_t)sizeof e;
    e.kind = kind;
    return e;
}
