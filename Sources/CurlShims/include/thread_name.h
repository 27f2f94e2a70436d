/* Naming the calling thread, for the engine loop: Swift's Glibc import lacks pthread_setname_np. */
#ifndef MIX2API_THREAD_NAME_H
#define MIX2API_THREAD_NAME_H

/* Names the calling thread as `top -H`, `perf` and /proc show it (15 bytes kept). 0 on success. */
int m2a_name_current_thread(const char *name);

#endif
