/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the configuration parser (daemon/settings.c): the
 * input is the file. It is written to a private directory (settings_load
 * reads a path; a relative password-file resolves there too, and a
 * "password" file beside it is the only one it can find), loaded, and on
 * success every field is checked against the contract (bare JID, port
 * range, priority range, a password). Failures must come with a message.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "daemon/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir;
static char *path;

static void set_up(void)
{
	g_autofree char *pw = NULL;

	if (dir)
		return;
	dir = g_dir_make_tmp("fuzz-settings-XXXXXX", NULL);
	if (!dir)
		abort();
	path = g_build_filename(dir, "presenced.conf", NULL);
	pw = g_build_filename(dir, "password", NULL);
	if (!g_file_set_contents_full(pw, "s3cret\n", -1,
				      G_FILE_SET_CONTENTS_NONE, 0600, NULL))
		abort();
	/* Only the file's own keys: no systemd credential. */
	g_unsetenv("CREDENTIALS_DIRECTORY");
}

static void check(const Settings *s)
{
	if (!s->path || !s->jid || strchr(s->jid, '/'))
		abort(); /* always a bare JID */
	if (!s->password || !*s->password)
		abort();
	if (s->port > 65535 || s->priority < -128 || s->priority > 127)
		abort();
	if (!s->status || !g_utf8_validate(s->status, -1, NULL))
		abort();
	if (s->nick && !g_utf8_validate(s->nick, -1, NULL))
		abort();
}

static bool contains(const uint8_t *data, size_t size, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= size; i++)
		if (memcmp(data + i, needle, n) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	Settings *s;

	set_up();
	/* A new file each time: written in place, a shorter input would
	 * leave the tail of the previous one behind. */
	(void)g_unlink(path);
	if (!g_file_set_contents_full(path, (const char *)data, (gssize)size,
				      G_FILE_SET_CONTENTS_NONE, 0600, NULL))
		abort();
	s = settings_load(path, &error);
	if (s) {
		if (error)
			abort();
		check(s);
		settings_free(s);
		return 0;
	}
	/* Failure always says why, for people: valid UTF-8, and never the
	 * password (unless the input itself says it elsewhere). */
	if (!error || !error->message || !*error->message ||
	    !g_utf8_validate(error->message, -1, NULL))
		abort();
	if (strstr(error->message, "s3cret") && !contains(data, size, "s3cret"))
		abort();
	g_error_free(error);
	return 0;
}
