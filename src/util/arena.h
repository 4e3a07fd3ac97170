/* arena.h - a per-request bump allocator.
 *
 * Every request owns one arena; whatever a handler, the store or the domain
 * allocates for that request comes from it and is released in one call when
 * the request completes, so request code never frees and cannot leak.
 * Allocation failure returns NULL (callers check); memory is 16-byte aligned.
 */
#ifndef OC_ARENA_H
#define OC_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena_cleanup arena_cleanup;

typedef struct arena {
    arena_block *head;
    arena_cleanup *cleanups; /* run by arena_free, newest first */
    size_t used;             /* bytes handed out from head */
    size_t total;            /* bytes handed out overall, for caps and metrics */
} arena;

void arena_init(arena *a);
/* Releases every block; the arena may be reused after arena_init. */
void arena_free(arena *a);

void *arena_alloc(arena *a, size_t n);
void *arena_calloc(arena *a, size_t count, size_t size);
/* Runs fn(arg) when the arena is freed: how a request lets go of shared
 * objects it borrowed. Returns -1 (and does not register) if out of memory. */
int arena_defer(arena *a, void (*fn)(void *), void *arg);

/* Copies of strings; NULL in gives NULL out. */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
/* printf into the arena; returns NULL on allocation failure. */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
