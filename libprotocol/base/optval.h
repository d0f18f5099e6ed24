/* optval.h - values of options and configuration keys written as text, shared by the
 * programs' command lines and configuration files: durations in seconds, DSCP names, schedule
 * slots ("0.1e", "0.01f") and lists of security modes ("AEO"). Pure functions. */
#ifndef LP_OPTVAL_H
#define LP_OPTVAL_H

#include <stdbool.h>
#include <stdint.h>

/* Seconds ("0.01", "2", at most 1e6) into ns. 0 or -1. */
int optval_seconds(const char *s, int64_t *ns);

/* A DSCP given as a number (0-63, decimal, octal or hex) or a name (EF, AF41, CS1, DF...,
 * any case): its value, or -1. */
int optval_dscp(const char *s);

/* One schedule slot: seconds with an optional suffix, 'e' exponential (the default) or 'f'
 * fixed. 0 or -1. */
int optval_slot(const char *s, bool *exponential, int64_t *interval_ns);

/* Security modes as letters (O open, A authenticated, E encrypted, M mixed when twamp), any
 * case, into WIRE_MODE_* bits. 0 or -1 (an unknown letter, or none). */
int optval_modes(const char *s, bool twamp, uint32_t *modes);

#endif
