/* coro.c -- execution contexts over the hand-written switch (or ucontext), ASan
 * fiber annotations, and the stack pool: mmap'd stacks with a guard region below. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acrawl/error.h"
#include "coro.h"
#include "util/alloc.h"

#ifdef ACR_VALGRIND
#include <valgrind/valgrind.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; older headers lack it */
#endif

#define PAINT_BYTE 0xa5

/* ---- contexts ---- */

#ifndef ACR_UCONTEXT
void acr__ctx_trampoline(void);

void acr__ctx_make(acr__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
    uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* Six callee-saved registers then the return address; after the `ret`
     * into the trampoline rsp is 16-byte aligned, as `call` expects. */
    uint64_t *sp = (uint64_t *)(top - 72);
    memset(sp, 0, 72);
    sp[2] = (uint64_t)(uintptr_t)arg;   /* r13 */
    sp[3] = (uint64_t)(uintptr_t)entry; /* r12 */
    sp[6] = (uint64_t)(uintptr_t)acr__ctx_trampoline;
#elif defined(__aarch64__)
    uint64_t *sp = (uint64_t *)(top - 176);
    memset(sp, 0, 176);
    sp[0] = (uint64_t)(uintptr_t)entry; /* x19 */
    sp[1] = (uint64_t)(uintptr_t)arg;   /* x20 */
    sp[11] = (uint64_t)(uintptr_t)acr__ctx_trampoline; /* x30 */
#endif
    ctx->sp = sp;
    ctx->stack_lo = stack_lo;
    ctx->stack_size = size;
    ctx->asan_fake = NULL;
}

#else
void acr__ctx_make(acr__ctx *ctx, void *stack_lo, size_t size, void (*entry)(void *), void *arg)
{
    getcontext(&ctx->uc);
    ctx->uc.uc_stack.ss_sp = stack_lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    /* glibc passes a pointer-sized argument through on 64-bit targets. */
    uintptr_t p = (uintptr_t)arg;
    makecontext(&ctx->uc, (void (*)(void))entry, 1, p);
    ctx->stack_lo = stack_lo;
    ctx->stack_size = size;
    ctx->asan_fake = NULL;
}

#endif

void acr__ctx_init_thread(acr__ctx *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &ctx->stack_lo, &ctx->stack_size);
        pthread_attr_destroy(&attr);
    }
}

void acr__ctx_entered(void)
{
#ifdef ACR_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}

_Noreturn void acr__ctx_swap_final(acr__ctx *from, acr__ctx *to)
{
#ifdef ACR_ASAN
    /* NULL: this fiber is finished, ASan may free its fake stack. */
    __sanitizer_start_switch_fiber(NULL, to->stack_lo, to->stack_size);
#endif
    acr__raw_switch(from, to);
    abort(); /* A finished context is never resumed. */
}

/* ---- stacks ---- */

static size_t page_size(void)
{
    static size_t ps;
    if (ps == 0)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

void acr__stack_pool_init(acr__stack_pool *p, size_t stack_size, acr__guard_mode guard, bool paint)
{
    memset(p, 0, sizeof *p);
    p->stack_size = round_up(stack_size, page_size());
    /* Several pages: a frame with a large local array may step over one page. */
    p->guard_size = 4 * page_size();
    p->guard = guard;
    p->paint = paint;
    p->keep_hot = 64;
    p->keep_max = 4096;
}

static void stack_unmap(acr__stack_pool *p, acr__stack *s)
{
    (void)p;
#ifdef ACR_VALGRIND
    VALGRIND_STACK_DEREGISTER(s->vg_id);
#endif
    munmap(s->map, s->map_size);
    free(s);
}

void acr__stack_pool_release(acr__stack_pool *p)
{
    while (p->free) {
        acr__stack *s = p->free;
        p->free = s->next_free;
        stack_unmap(p, s);
    }
    p->nfree = 0;
    p->nhot = 0;
}

static int install_guard(acr__stack_pool *p, void *map)
{
    if (p->guard != ACR_GUARD_MPROTECT) {
        if (madvise(map, p->guard_size, MADV_GUARD_INSTALL) == 0) {
            p->guard = ACR_GUARD_MADVISE;
            return 0;
        }
        if (p->guard == ACR_GUARD_MADVISE)
            return -errno;
        p->guard = ACR_GUARD_MPROTECT; /* kernel without guard regions */
    }
    if (mprotect(map, p->guard_size, PROT_NONE) != 0) {
        /* Each mprotect'd guard splits the mapping: two VMAs per stack, so
         * vm.max_map_count (65530 by default) caps us near 32k stacks. */
        return errno == ENOMEM ? ACR_ENOSTACK : -errno;
    }
    return 0;
}

static int stack_map(acr__stack_pool *p, acr__stack **out)
{
    acr__stack *s = acr_calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->map_size = p->guard_size + p->stack_size;
    s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (s->map == MAP_FAILED) {
        int err = errno;
        free(s);
        return err == ENOMEM ? ACR_ENOSTACK : -err;
    }
    int rc = install_guard(p, s->map);
    if (rc != 0) {
        munmap(s->map, s->map_size);
        free(s);
        return rc;
    }
    s->lo = (char *)s->map + p->guard_size;
    s->size = p->stack_size;
#ifdef ACR_VALGRIND
    s->vg_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + s->size);
#endif
    *out = s;
    return 0;
}

int acr__stack_get(acr__stack_pool *p, acr__stack **out)
{
    acr__stack *s = p->free;
    if (s) {
        p->free = s->next_free;
        p->nfree--;
        if (s->hot)
            p->nhot--;
    } else {
        int rc = stack_map(p, &s);
        if (rc != 0)
            return rc;
    }
    if (p->paint)
        memset(s->lo, PAINT_BYTE, s->size);
    s->hot = true;
    p->live++;
    *out = s;
    return 0;
}

static size_t painted_depth(const acr__stack *s)
{
    const unsigned char *b = s->lo;
    size_t i = 0;
    while (i < s->size && b[i] == PAINT_BYTE)
        i++;
    return s->size - i;
}

void acr__stack_put(acr__stack_pool *p, acr__stack *s)
{
    p->live--;
    if (p->paint) {
        size_t d = painted_depth(s);
        if (d > p->high_water)
            p->high_water = d;
    }
    if (p->nfree >= p->keep_max) {
        stack_unmap(p, s);
        return;
    }
    if (p->nhot >= p->keep_hot) {
        /* Past the high-water count, pooled stacks give their pages back;
         * guard regions survive MADV_DONTNEED. */
        madvise(s->lo, s->size, MADV_DONTNEED);
        s->hot = false;
    } else {
        p->nhot++;
    }
    s->next_free = p->free;
    p->free = s;
    p->nfree++;
}

bool acr__stack_in_guard(const acr__stack *s, const void *addr)
{
    const char *a = addr;
    return a >= (const char *)s->map && a < (const char *)s->lo;
}
