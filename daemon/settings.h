/* SPDX-License-Identifier: MIT */
/*
 * The settings: the configuration file (CONTRACT.md, GKeyFile) loaded and
 * validated. Every error names the file, the key and the reason, and never
 * contains the password.
 */
#ifndef PRESENCED_DAEMON_SETTINGS_H
#define PRESENCED_DAEMON_SETTINGS_H

#include <glib.h>
#include <stdbool.h>

#include "core/presence.h"

#define SETTINGS_ERROR (settings_error_quark())
GQuark settings_error_quark(void);

typedef enum {
	SETTINGS_ERROR_READ,	 /* file missing or unreadable, bad syntax */
	SETTINGS_ERROR_INVALID,	 /* a key's value is wrong or missing */
	SETTINGS_ERROR_PASSWORD, /* no password, or password-file unsafe */
} SettingsError;

/*
 * The password comes from the first of these that is set:
 *   1. [account] password (explicit in the file);
 *   2. [account] password-file: the file's first line, trailing "\n" or
 *      "\r\n" stripped; refused if group- or world-readable or not a
 *      regular file; a relative path is relative to the config file's
 *      directory;
 *   3. the systemd credential $CREDENTIALS_DIRECTORY/password (first line,
 *      as above), when that variable is set and the file exists.
 * None of them: SETTINGS_ERROR_PASSWORD. An empty password is an error.
 *
 * Syntax: GKeyFile, plus lines starting with ';' are comments, and for keys
 * whose values cannot contain whitespace followed by ';' (jid, server, port,
 * tls, show, priority, away-on-lock, away-after, xa-after,
 * dnd-follows-desktop) such a tail is an inline comment, as in
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
	int priority; /* default -1 when the key is absent (see settings.c) */
	char *nick;   /* NULL when none */
	bool away_on_lock;	  /* default true */
	unsigned away_after;	  /* minutes, 0: off; default 5 */
	unsigned xa_after;	  /* minutes, 0: off; default 15 */
	bool dnd_follows_desktop; /* default true */
} Settings;

/* $XDG_CONFIG_HOME/presenced/presenced.conf. Transfer full. */
char *settings_default_path(void);

/* Loads and validates. NULL with error on any problem. Transfer full. */
Settings *settings_load(const char *path, GError **error);
void settings_free(Settings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Settings, settings_free)

#endif /* PRESENCED_DAEMON_SETTINGS_H */
