/* switch_x86_64.S -- context switch for x86-64 SysV: saves the callee-saved
 * registers on the old stack, swaps stack pointers, restores from the new one.
 * Signal masks and the FPU control words are not saved (tasks do not change them). */
#if defined(__x86_64__) && !defined(ACR_UCONTEXT)
    .text
    .globl acr__ctx_switch
    .type acr__ctx_switch, @function
/* void acr__ctx_switch(void **from_sp, void *const *to_sp) */
acr__ctx_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq (%rsi), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size acr__ctx_switch, .-acr__ctx_switch

    .globl acr__ctx_trampoline
    .type acr__ctx_trampoline, @function
/* First entry of a new context: r12 = entry function, r13 = its argument.
 * The entry function never returns. */
acr__ctx_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r13, %rdi
    callq *%r12
    ud2
    .cfi_endproc
    .size acr__ctx_trampoline, .-acr__ctx_trampoline
#endif
    .section .note.GNU-stack,"",@progbits
