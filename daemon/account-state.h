/* SPDX-License-Identifier: MIT */
/*
 * What the daemon remembers about an account between runs, in
 * $XDG_STATE_HOME/presenced/accounts (directory 0700, file 0600; a
 * GKeyFile with one group per bare JID): today the mark that SCRAM has
 * authenticated the account (CONTRACT.md "Authentication": never PLAIN
 * after that). A missing, unreadable or malformed file means "nothing
 * known" and is logged, never fatal; the file is replaced atomically.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* dir NULL: $XDG_STATE_HOME/presenced. The path of the accounts file;
 * transfer full. */
char *account_state_path(const char *dir);

/* Whether SCRAM has worked for bare_jid before. */
bool account_state_scram_worked(const char *dir, const char *bare_jid);

/* Remembers that it has (idempotent: no write when already known). */
bool account_state_mark_scram_worked(const char *dir, const char *bare_jid,
				     GError **error);
