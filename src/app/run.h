/* run.h -- private: the program: runs the configured engine, streams records to
 * stdout, prints the report, and turns the outcome into the exit code. */
#ifndef ACR_APP_RUN_H
#define ACR_APP_RUN_H

#define ACR_EXIT_OK 0
#define ACR_EXIT_FAILED 1
#define ACR_EXIT_USAGE 2
#define ACR_EXIT_DEADLINE 124
#define ACR_EXIT_INTERRUPTED 130
#define ACR_EXIT_PIPE 141

int acr_main(int argc, char **argv);

#endif
