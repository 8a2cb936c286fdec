/* coro.h -- private: execution contexts (hand-written switch, ucontext fallback)
 * with ASan fiber annotations, and the pooled, guarded task stacks they run on. */
#ifndef ACR_RUNTIME_CORO_H
#define ACR_RUNTIME_CORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(__x86_64__) && !defined(__aarch64__) && !defined(ACR_UCONTEXT)
#define ACR_UCONTEXT 1
#endif
#ifdef ACR_UCONTEXT
#include <ucontext.h>
#endif

typedef struct acr__ctx {
#ifdef ACR_UCONTEXT
    ucontext_t uc;
#else
    void *sp;           /* saved stack pointer while switched out */
#endif
    void *stack_lo;     /* usable stack [stack_lo, stack_lo + stack_size) */
    size_t stack_size;
    void *asan_fake;    /* ASan's fake-stack handle while switched out */
} acr__ctx;

/* Prepares ctx to run entry(arg) on [stack_lo, stack_lo+size) at its first switch-in.
 * entry must never return: it leaves with acr__ctx_switch_final(). */
void acr__ctx_make(acr__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg);
/* Records the current (thread) stack as ctx's, for ASan. */
void acr__ctx_init_thread(acr__ctx *ctx);
/* Saves the current context in from and resumes to; returns when from is resumed.
 * Inline: it is the hottest path in the runtime. */
static inline void acr__ctx_swap(acr__ctx *from, acr__ctx *to);
/* Leaves a context for good (its stack may be reused after this). */
_Noreturn void acr__ctx_swap_final(acr__ctx *from, acr__ctx *to);
/* Must be the first call of a context's entry function (ASan bookkeeping). */
void acr__ctx_entered(void);

/* ---- stacks ---- */

typedef enum { ACR_GUARD_AUTO = 0, ACR_GUARD_MADVISE, ACR_GUARD_MPROTECT } acr__guard_mode;

typedef struct acr__stack {
    struct acr__stack *next_free;
    void *map;          /* whole mapping: guard + usable */
    size_t map_size;
    void *lo;           /* usable stack, above the guard */
    size_t size;
    bool hot;           /* pages still resident (not yet given back) */
    unsigned vg_id;     /* valgrind stack id */
} acr__stack;

typedef struct acr__stack_pool {
    size_t stack_size;  /* usable bytes per stack, page multiple */
    size_t guard_size;
    acr__guard_mode guard;  /* resolved: MADVISE or MPROTECT */
    bool paint;         /* fill new stacks with a pattern to measure the high-water mark */
    unsigned keep_hot;  /* free stacks that keep their pages */
    unsigned keep_max;  /* free stacks kept mapped at all */
    acr__stack *free;
    unsigned nfree, nhot;
    size_t live;        /* stacks handed out */
    size_t high_water;  /* deepest use seen by acr__stack_put on painted stacks */
} acr__stack_pool;

void acr__stack_pool_init(acr__stack_pool *p, size_t stack_size, acr__guard_mode guard, bool paint);
void acr__stack_pool_release(acr__stack_pool *p);
/* 0, ACR_ENOSTACK (map limit or address space exhausted) or -errno. */
int acr__stack_get(acr__stack_pool *p, acr__stack **out);
void acr__stack_put(acr__stack_pool *p, acr__stack *s);
/* True when addr lies in the guard region below s. */
bool acr__stack_in_guard(const acr__stack *s, const void *addr);

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ACR_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(ACR_ASAN)
#define ACR_ASAN 1
#endif
#ifdef ACR_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#ifndef ACR_UCONTEXT
void acr__ctx_switch(void **from_sp, void *const *to_sp);
static inline void acr__raw_switch(acr__ctx *from, acr__ctx *to) { acr__ctx_switch(&from->sp, &to->sp); }
#else
static inline void acr__raw_switch(acr__ctx *from, acr__ctx *to) { swapcontext(&from->uc, &to->uc); }
#endif

static inline void acr__ctx_swap(acr__ctx *from, acr__ctx *to)
{
#ifdef ACR_ASAN
    __sanitizer_start_switch_fiber(&from->asan_fake, to->stack_lo, to->stack_size);
#endif
    acr__raw_switch(from, to);
#ifdef ACR_ASAN
    __sanitizer_finish_switch_fiber(from->asan_fake, NULL, NULL);
#endif
}

#endif
