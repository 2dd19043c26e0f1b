/* SPDX-License-Identifier: MIT */
/*
 * The configuration file (CONTRACT.md, GKeyFile). Every error names the
 * file, the key and the reason, and never contains the password.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/presence.h"

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);

typedef enum {
	CONFIG_ERROR_READ,    /* file missing or unreadable, bad syntax */
	CONFIG_ERROR_INVALID, /* a key's value is wrong or missing */
	CONFIG_ERROR_PASSWORD,/* no password, or password-file unsafe */
} ConfigError;

typedef struct {
	char *path;	   /* the file it came from */
	char *jid;	   /* normalized bare JID */
	char *password;	   /* wiped on free; from password, password-file or
			    * $CREDENTIALS_DIRECTORY/password */
	char *resource;	   /* NULL: server assigns */
	char *server;	   /* NULL: SRV look-up */
	unsigned port;	   /* 0: SRV / default */
	bool direct_tls;   /* tls = direct */
	char *ca_file;	   /* NULL: system store only */
	PresenceShow show; /* [presence] show, default available */
	char *status;	   /* "" default */
	int priority;	   /* default 0 when the key is absent */
	char *nick;	   /* NULL when none */
	bool away_on_lock; /* default true */
} Config;

/* $XDG_CONFIG_HOME/presenced/presenced.conf. Transfer full. */
char *config_default_path(void);

/* Loads and validates. NULL with error on any problem. Transfer full. */
Config *config_load(const char *path, GError **error);
void config_free(Config *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Config, config_free)
