/* server/cli.h -- the coffer subcommands other than serve. */
#ifndef COFFER_CLI_H
#define COFFER_CLI_H

/** `coffer scrub ...` (argv[0] is "scrub"). Returns the exit status. */
int cli_scrub(int argc, char **argv);

#endif
