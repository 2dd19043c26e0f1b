/* SPDX-License-Identifier: MIT */
/*
 * The per-account state file (account-state.h): read on each connection
 * attempt (it is tiny), written only when something new is learned.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "daemon/account-state.h"

#define GROUP_KEY_SCRAM "scram-worked"
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

bool account_state_mark_scram_worked(const char *dir, const char *bare_jid,
				     GError **error)
{
	g_autofree char *path = account_state_path(dir);
	g_autofree char *parent = g_path_get_dirname(path);
	g_autoptr(GKeyFile) kf = load(path);
	g_autofree char *data = NULL;
	gsize len = 0;

	if (g_key_file_get_boolean(kf, bare_jid, GROUP_KEY_SCRAM, NULL))
		return true;
	if (g_mkdir_with_parents(parent, 0700) != 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
			    "cannot create %s: %s", parent, g_strerror(err));
		return false;
	}
	g_key_file_set_boolean(kf, bare_jid, GROUP_KEY_SCRAM, TRUE);
	data = g_key_file_to_data(kf, &len, NULL);
	return g_file_set_contents_full(path, data, (gssize)len,
					G_FILE_SET_CONTENTS_CONSISTENT, 0600,
					error);
}
