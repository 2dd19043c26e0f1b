/* SPDX-License-Identifier: MIT */
/*
 * The per-account state file (account-state.h): read on each connection
 * attempt (it is tiny), written only when something new is learned.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/account-state.h"

#define GROUP_KEY_SCRAM "scram-worked"
#define KEY_FAST_TOKEN "fast-token"
#define KEY_FAST_MECHANISM "fast-mechanism"
#define KEY_FAST_EXPIRY "fast-expiry"
/* Not a JID a config can name (those have a localpart). */
#define GROUP_INSTALLATION "installation"
#define KEY_USER_AGENT_ID "user-agent-id"
/* A real file is a few hundred bytes; anything larger is not ours. */
#define MAX_STATE_BYTES ((gsize)256 * 1024)

char *account_state_path(const char *dir)
{
	if (dir)
		return g_build_filename(dir, "accounts", NULL);
	return g_build_filename(g_get_user_state_dir(), "presenced", "accounts",
				NULL);
}

/* The file as a key file; empty when missing, and when unreadable or
 * malformed (logged: the user should know why PLAIN is allowed again). */
static GKeyFile *load(const char *path)
{
	GKeyFile *kf = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &error)) {
		if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_warning("%s: %s; ignoring it", path, error->message);
		return kf;
	}
	if (len > MAX_STATE_BYTES ||
	    !g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE,
				       &error)) {
		g_warning("%s: %s; ignoring it", path,
			  error ? error->message : "too large");
		g_key_file_free(kf);
		return g_key_file_new();
	}
	return kf;
}

bool account_state_scram_worked(const char *dir, const char *bare_jid)
{
	g_autofree char *path = account_state_path(dir);
	g_autoptr(GKeyFile) kf = load(path);

	return g_key_file_get_boolean(kf, bare_jid, GROUP_KEY_SCRAM, NULL);
}

/* Writes kf atomically with mode 0600, creating the 0700 directory. */
static bool save(const char *path, GKeyFile *kf, GError **error)
{
	g_autofree char *parent = g_path_get_dirname(path);
	g_autofree char *data = NULL;
	gsize len = 0;
	bool ok;

	if (g_mkdir_with_parents(parent, 0700) != 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
			    "cannot create %s: %s", parent, g_strerror(err));
		return false;
	}
	data = g_key_file_to_data(kf, &len, NULL);
	ok = g_file_set_contents_full(path, data, (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				      error);
	/* It may hold a FAST token. */
	explicit_bzero(data, len);
	return ok;
}

bool account_state_mark_scram_worked(const char *dir, const char *bare_jid,
				     GError **error)
{
	g_autofree char *path = account_state_path(dir);
	g_autoptr(GKeyFile) kf = load(path);

	if (g_key_file_get_boolean(kf, bare_jid, GROUP_KEY_SCRAM, NULL))
		return true;
	g_key_file_set_boolean(kf, bare_jid, GROUP_KEY_SCRAM, TRUE);
	return save(path, kf, error);
}

char *account_state_dup_user_agent_id(const char *dir, GError **error)
{
	g_autofree char *path = account_state_path(dir);
	g_autoptr(GKeyFile) kf = load(path);
	g_autofree char *id = g_key_file_get_string(kf, GROUP_INSTALLATION,
						    KEY_USER_AGENT_ID, NULL);

	if (id && g_uuid_string_is_valid(id))
		return g_steal_pointer(&id);
	g_free(id);
	id = g_uuid_string_random();
	g_key_file_set_string(kf, GROUP_INSTALLATION, KEY_USER_AGENT_ID, id);
	if (!save(path, kf, error))
		return NULL;
	return g_steal_pointer(&id);
}

bool account_state_get_fast_token(const char *dir, const char *bare_jid,
				  char **ret_token, char **ret_mechanism,
				  char **ret_expiry)
{
	g_autofree char *path = account_state_path(dir);
	g_autoptr(GKeyFile) kf = load(path);
	g_autofree char *token =
		g_key_file_get_string(kf, bare_jid, KEY_FAST_TOKEN, NULL);
	g_autofree char *mech =
		g_key_file_get_string(kf, bare_jid, KEY_FAST_MECHANISM, NULL);
	char *expiry =
		g_key_file_get_string(kf, bare_jid, KEY_FAST_EXPIRY, NULL);
	bool ok = token && *token && mech && *mech;

	if (ok) {
		*ret_token = g_steal_pointer(&token);
		*ret_mechanism = g_steal_pointer(&mech);
		*ret_expiry = expiry ? expiry : g_strdup("");
	} else {
		g_free(expiry);
	}
	if (token)
		explicit_bzero(token, strlen(token));
	return ok;
}

bool account_state_set_fast_token(const char *dir, const char *bare_jid,
				  const char *token, const char *mechanism,
				  const char *expiry, GError **error)
{
	g_autofree char *path = account_state_path(dir);
	g_autoptr(GKeyFile) kf = load(path);

	g_key_file_set_string(kf, bare_jid, KEY_FAST_TOKEN, token);
	g_key_file_set_string(kf, bare_jid, KEY_FAST_MECHANISM, mechanism);
	g_key_file_set_string(kf, bare_jid, KEY_FAST_EXPIRY,
			      expiry ? expiry : "");
	return save(path, kf, error);
}

bool account_state_forget_fast_token(const char *dir, const char *bare_jid,
				     GError **error)
{
	g_autofree char *path = account_state_path(dir);
	g_autoptr(GKeyFile) kf = load(path);

	if (!g_key_file_has_key(kf, bare_jid, KEY_FAST_TOKEN, NULL))
		return true;
	(void)g_key_file_remove_key(kf, bare_jid, KEY_FAST_TOKEN, NULL);
	(void)g_key_file_remove_key(kf, bare_jid, KEY_FAST_MECHANISM, NULL);
	(void)g_key_file_remove_key(kf, bare_jid, KEY_FAST_EXPIRY, NULL);
	return save(path, kf, error);
}
