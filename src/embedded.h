/*
 * embedded.h - data files compiled into the binary (tools/embed.c).
 */
#ifndef SMTPCHECK_EMBEDDED_H
#define SMTPCHECK_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const char *text;
};

/* The data/clients/NAME.client files, terminated by { NULL, NULL }. */
extern const struct embedded_file kb_files[];

#endif
