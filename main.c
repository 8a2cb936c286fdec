/* main.c -- the acrawl command. */
#include "app/run.h"

int main(int argc, char **argv) { return acr_main(argc, argv); }
