/* switch_aarch64.S -- context switch for AArch64 (AAPCS64): saves x19-x30 and
 * d8-d15 on the old stack, swaps stack pointers, restores from the new one. */
#if defined(__aarch64__) && !defined(ACR_UCONTEXT)
    .text
    .globl acr__ctx_switch
    .type acr__ctx_switch, %function
/* void acr__ctx_switch(void **from_sp, void *const *to_sp) */
acr__ctx_switch:
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0]
    ldr x9, [x1]
    mov sp, x9
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #176
    ret
    .size acr__ctx_switch, .-acr__ctx_switch

    .globl acr__ctx_trampoline
    .type acr__ctx_trampoline, %function
/* First entry of a new context: x19 = entry function, x20 = its argument. */
acr__ctx_trampoline:
    mov x29, #0
    mov x0, x20
    blr x19
    brk #0
    .size acr__ctx_trampoline, .-acr__ctx_trampoline
#endif
    .section .note.GNU-stack,"",%progbits
