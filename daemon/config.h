/* SPDX-License-Identifier: MIT */
/*
 * The configuration file (CONTRACT.md, GKeyFile). Every error names the
 * file, the key and the reason, and never contains the password.
 *
 * This header shares its name with autoconf's config.h: a file in daemon/
 * that includes "config.h" finds this one first (the includer's directory
 * is searched before -I), and in a VPATH build so does every file that
 * searches -I$(top_srcdir)/daemon before -I$(top_builddir). So this header
 * pulls in autoconf's as well, whichever was meant: #include_next continues
 * the search past this file (when this file was found relative to its
 * includer, the search restarts, finds this file again via -I, and that
 * nested inclusion continues to $(top_builddir)).
 */
#ifndef PACKAGE_NAME
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Winclude-next-absolute-path"
#endif
#include_next <config.h>
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
#endif

#ifndef PRESENCED_DAEMON_CONFIG_H
#define PRESENCED_DAEMON_CONFIG_H

#include <glib.h>
#include <stdbool.h>

#include "core/presence.h"

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);

typedef enum {
	CONFIG_ERROR_READ,     /* file missing or unreadable, bad syntax */
	CONFIG_ERROR_INVALID,  /* a key's value is wrong or missing */
	CONFIG_ERROR_PASSWORD, /* no password, or password-file unsafe */
} ConfigError;

/*
 * The password comes from the first of these that is set:
 *   1. [account] password (explicit in the file);
 *   2. [account] password-file: the file's first line, trailing "\n" or
 *      "\r\n" stripped; refused if group- or world-readable or not a
 *      regular file; a relative path is relative to the config file's
 *      directory;
 *   3. the systemd credential $CREDENTIALS_DIRECTORY/password (first line,
 *      as above), when that variable is set and the file exists.
 * None of them: CONFIG_ERROR_PASSWORD. An empty password is an error.
 *
 * Syntax: GKeyFile, plus lines starting with ';' are comments, and for keys
 * whose values cannot contain whitespace followed by ';' (jid, server, port,
 * tls, show, priority, away-on-lock) such a tail is an inline comment, as in
 * CONTRACT.md's example. Other values (status, nick, password, paths,
 * resource) are taken verbatim. Unknown groups and keys are errors.
 */
typedef struct {
	char *path;	   /* the file it came from */
	char *jid;	   /* normalized bare JID */
	char *password;	   /* wiped on free; from password, password-file or
			    * $CREDENTIALS_DIRECTORY/password */
	char *resource;	   /* NULL: server assigns */
	char *server;	   /* NULL: SRV look-up */
	unsigned port;	   /* 0: SRV / default */
	bool direct_tls;   /* tls = direct */
	char *ca_file;	   /* NULL: system store only; absolute path */
	PresenceShow show; /* [presence] show, default available */
	char *status;	   /* "" default */
	int priority; /* default -1 when the key is absent (see config.c) */
	char *nick;   /* NULL when none */
	bool away_on_lock; /* default true */
} Config;

/* $XDG_CONFIG_HOME/presenced/presenced.conf. Transfer full. */
char *config_default_path(void);

/* Loads and validates. NULL with error on any problem. Transfer full. */
Config *config_load(const char *path, GError **error);
void config_free(Config *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Config, config_free)

#endif /* PRESENCED_DAEMON_CONFIG_H */
