/* list.h -- private: intrusive circular doubly-linked lists for the runtime. */
#ifndef ACR_RUNTIME_LIST_H
#define ACR_RUNTIME_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct acr__list {
    struct acr__list *prev, *next;
} acr__list;

#define acr__container_of(p, T, m) ((T *)(void *)((char *)(p)-offsetof(T, m)))

static inline void acr__list_init(acr__list *l) { l->prev = l->next = l; }
static inline bool acr__list_empty(const acr__list *l) { return l->next == l; }
/* A node that was initialised or removed points at itself. */
static inline bool acr__list_linked(const acr__list *n) { return n->next != n; }

static inline void acr__list_push(acr__list *head, acr__list *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

static inline void acr__list_remove(acr__list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n;
    n->next = n;
}

/* Removes and returns the first node, or NULL when empty. */
static inline acr__list *acr__list_shift(acr__list *head)
{
    if (acr__list_empty(head))
        return NULL;
    acr__list *n = head->next;
    acr__list_remove(n);
    return n;
}

#endif
