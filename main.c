/* main.c -- the acrawl command (placeholder until the CLI lands). */
#include <stdio.h>
int main(void) { puts("acrawl"); return 0; }
