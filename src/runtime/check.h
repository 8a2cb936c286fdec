/* check.h -- private: ACR_ASSERT(cond, rule), the runtime's checked invariants.
 * On in debug and sanitizer builds (ACR_DEBUG, set by `make asan`, `make debug` and
 * the stress build), compiled out in release. A failure names the broken rule. */
#ifndef ACR_RUNTIME_CHECK_H
#define ACR_RUNTIME_CHECK_H

#ifdef ACR_DEBUG
#define ACR_ASSERT(cond, rule) ((cond) ? (void)0 : acr__assert_fail(#cond, rule, __FILE__, __LINE__))
#else
/* sizeof keeps cond type-checked and its variables "used" without evaluating it. */
#define ACR_ASSERT(cond, rule) ((void)sizeof(!(cond)))
#endif

/* Prints "acrawl: internal error: RULE (COND at FILE:LINE)" to stderr and aborts. */
_Noreturn void acr__assert_fail(const char *cond, const char *rule, const char *file, int line);

#endif
