/* SPDX-License-Identifier: MIT */
/*
 * What the daemon remembers about an account between runs, in
 * $XDG_STATE_HOME/presenced/accounts (directory 0700, file 0600; a
 * GKeyFile with one group per bare JID): the mark that SCRAM has
 * authenticated the account (CONTRACT.md "Authentication": never PLAIN
 * after that) and its XEP-0484 FAST token (a secret: never logged), plus
 * the group [installation] with the per-installation XEP-0388 user-agent
 * id. A missing, unreadable or malformed file means "nothing
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

/* The per-installation user-agent id (a UUID), made and kept on first
 * use. Transfer full; NULL with error when it cannot be kept (then the
 * daemon goes on without one, and without FAST). */
char *account_state_dup_user_agent_id(const char *dir, GError **error);

/* The FAST token kept for bare_jid: true and all three transfer full
 * (ret_token is a secret: wipe it; ret_expiry ISO 8601 or ""), false and
 * nothing written when there is none. */
bool account_state_get_fast_token(const char *dir, const char *bare_jid,
				  char **ret_token, char **ret_mechanism,
				  char **ret_expiry);
/* Replaces it (a new or rotated token). */
bool account_state_set_fast_token(const char *dir, const char *bare_jid,
				  const char *token, const char *mechanism,
				  const char *expiry, GError **error);
/* Forgets it (refused, expired); no write when there is none. */
bool account_state_forget_fast_token(const char *dir, const char *bare_jid,
				     GError **error);
