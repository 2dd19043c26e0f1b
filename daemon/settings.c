/* SPDX-License-Identifier: MIT */
/*
 * The configuration file (CONTRACT.md "Configuration file"). Strict: an
 * unknown group or key is an error, since a typo silently ignored is a
 * setting the user believes in and does not have. Every message names the
 * file, the group/key and the reason; no message ever quotes a password (the
 * password keys' values are never echoed, and GLib's own parse messages,
 * which quote whole lines, are not passed on).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core/jid.h"
#include "daemon/settings.h"

G_DEFINE_QUARK(presenced - settings - error - quark, settings_error)

#define GROUP_ACCOUNT "account"
#define GROUP_PRESENCE "presence"
/* Far beyond any real password; bounds what a wrong path makes us read. */
#define MAX_PASSWORD_FILE_BYTES 4096

typedef struct {
	const char *group;
	const char *key;
	bool inline_comment; /* "value ; comment" allowed (see config.h) */
} KeyInfo;

static const KeyInfo known_keys[] = {
	{GROUP_ACCOUNT, "jid", true},
	{GROUP_ACCOUNT, "password", false},
	{GROUP_ACCOUNT, "password-file", false},
	{GROUP_ACCOUNT, "resource", false},
	{GROUP_ACCOUNT, "server", true},
	{GROUP_ACCOUNT, "port", true},
	{GROUP_ACCOUNT, "tls", true},
	{GROUP_ACCOUNT, "ca-file", false},
	{GROUP_PRESENCE, "show", true},
	{GROUP_PRESENCE, "status", false},
	{GROUP_PRESENCE, "priority", true},
	{GROUP_PRESENCE, "nick", false},
	{GROUP_PRESENCE, "away-on-lock", true},
	{GROUP_PRESENCE, "away-after", true},
	{GROUP_PRESENCE, "xa-after", true},
	{GROUP_PRESENCE, "dnd-follows-desktop", true},
};

typedef struct {
	const char *path;
	GKeyFile *kf;
	/* [account] password, parsed by us so that GKeyFile never holds a
	 * copy we cannot wipe; NULL when the key is absent. */
	char *password;
} Loader;

char *settings_default_path(void)
{
	return g_build_filename(g_get_user_config_dir(), "presenced",
				"presenced.conf", NULL);
}

static void wipe_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	g_free(secret);
}

void settings_free(Settings *config)
{
	if (config == NULL)
		return;
	g_free(config->path);
	g_free(config->jid);
	wipe_free(config->password);
	g_free(config->resource);
	g_free(config->server);
	g_free(config->ca_file);
	g_free(config->status);
	g_free(config->nick);
	g_free(config);
}

static const KeyInfo *find_key(const char *group, const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(known_keys); i++) {
		if (strcmp(known_keys[i].group, group) == 0 &&
		    strcmp(known_keys[i].key, key) == 0)
			return &known_keys[i];
	}
	return NULL;
}

static bool is_known_group(const char *group)
{
	return strcmp(group, GROUP_ACCOUNT) == 0 ||
	       strcmp(group, GROUP_PRESENCE) == 0;
}

/* Error about one key: "FILE: key 'KEY' in [GROUP]: REASON". */
G_GNUC_PRINTF(6, 7)
static void set_key_error(GError **error, SettingsError code, const char *path,
			  const char *group, const char *key,
			  const char *format, ...)
{
	g_autofree char *reason = NULL;
	va_list ap;

	va_start(ap, format);
	reason = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error(error, SETTINGS_ERROR, code, "%s: key '%s' in [%s]: %s",
		    path, key, group, reason);
}

/*
 * Checks the line syntax ourselves, so that a bad line gets a message with
 * its number but not its content (it may be a password), and turns
 * ';' comment lines into '#' ones for GKeyFile. Returns the data to load.
 */
/* The lines of the file, wiped before they are freed: one may hold the
 * password. */
typedef char **SecretLines;

static void secret_lines_free(SecretLines lines)
{
	if (lines == NULL)
		return;
	for (size_t i = 0; lines[i] != NULL; i++)
		explicit_bzero(lines[i], strlen(lines[i]));
	g_strfreev(lines);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(SecretLines, secret_lines_free, NULL)

/*
 * The value of a "password = ..." line with GKeyFile's string rules:
 * leading blanks skipped, escapes \s \n \t \r \\ decoded, any other
 * escape an error. Never quotes the value.
 */
static char *parse_password_value(const char *path, const char *value,
				  GError **error)
{
	size_t len = strlen(value);
	char *out = g_malloc(len + 1);
	char *q = out;

	while (*value == ' ' || *value == '\t')
		value++;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p != '\\') {
			*q++ = *p;
			continue;
		}
		p++;
		switch (*p) {
		case 's':
			*q++ = ' ';
			break;
		case 'n':
			*q++ = '\n';
			break;
		case 't':
			*q++ = '\t';
			break;
		case 'r':
			*q++ = '\r';
			break;
		case '\\':
			*q++ = '\\';
			break;
		default:
			explicit_bzero(out, len + 1);
			g_free(out);
			g_set_error(error, SETTINGS_ERROR,
				    SETTINGS_ERROR_INVALID,
				    "%s: key 'password' in [%s]: invalid "
				    "escape sequence (write a backslash as "
				    "\\\\)",
				    path, GROUP_ACCOUNT);
			return NULL;
		}
	}
	*q = '\0';
	return out;
}

static char *preprocess(Loader *l, const char *data, gsize len, GError **error)
{
	const char *path = l->path;
	g_auto(SecretLines) lines = NULL;
	g_autofree char *group = NULL;
	GString *out;

	if (memchr(data, '\0', len) != NULL) {
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_READ,
			    "%s: contains a NUL byte; not a text file", path);
		return NULL;
	}
	if (!g_utf8_validate(data, (gssize)len, NULL)) {
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_READ,
			    "%s: not valid UTF-8", path);
		return NULL;
	}

	/* A UTF-8 byte order mark, as some editors write. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		data += 3;
	lines = g_strsplit(data, "\n", -1);
	out = g_string_sized_new(len + 1);
	for (size_t i = 0; lines[i] != NULL; i++) {
		char *line = lines[i];
		const char *p = line;
		size_t n = strlen(line);

		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#') {
			/* blank or comment */
		} else if (*p == ';') {
			g_string_append_c(out, '#');
			g_string_append(out, p + 1);
			g_string_append_c(out, '\n');
			continue;
		} else if (*p == '[') {
			const char *end = strchr(p, ']');
			const char *q = end != NULL ? end + 1 : NULL;

			while (q != NULL && (*q == ' ' || *q == '\t'))
				q++;
			if (end == NULL || end == p + 1 || *q != '\0') {
				g_string_free(out, TRUE);
				g_set_error(error, SETTINGS_ERROR,
					    SETTINGS_ERROR_READ,
					    "%s: line %zu: malformed group "
					    "header; expected [account] or "
					    "[presence]",
					    path, i + 1);
				return NULL;
			}
			g_free(group);
			group = g_strndup(p + 1, (gsize)(end - p - 1));
			if (!is_known_group(group)) {
				g_string_free(out, TRUE);
				g_set_error(error, SETTINGS_ERROR,
					    SETTINGS_ERROR_INVALID,
					    "%s: line %zu: unknown group [%s]; "
					    "expected [%s] or [%s]",
					    path, i + 1, group, GROUP_ACCOUNT,
					    GROUP_PRESENCE);
				return NULL;
			}
		} else {
			const char *eq = strchr(p, '=');

			if (eq == NULL || eq == p) {
				g_string_free(out, TRUE);
				g_set_error(error, SETTINGS_ERROR,
					    SETTINGS_ERROR_READ,
					    "%s: line %zu: not a 'key = value' "
					    "line, a [group] or a comment",
					    path, i + 1);
				return NULL;
			}
			g_autofree char *key =
				g_strstrip(g_strndup(p, (gsize)(eq - p)));

			if (group == NULL) {
				g_string_free(out, TRUE);
				g_set_error(error, SETTINGS_ERROR,
					    SETTINGS_ERROR_READ,
					    "%s: line %zu: key '%s' outside "
					    "any group; put it under [account] "
					    "or [presence]",
					    path, i + 1, key);
				return NULL;
			}
			/* Here and not from GKeyFile, which hides keys such
			 * as "status[de]" from g_key_file_get_keys(). */
			if (find_key(group, key) == NULL) {
				g_string_free(out, TRUE);
				g_set_error(error, SETTINGS_ERROR,
					    SETTINGS_ERROR_INVALID,
					    "%s: line %zu: unknown key '%s' in "
					    "[%s]",
					    path, i + 1, key, group);
				return NULL;
			}
			if (strcmp(group, GROUP_ACCOUNT) == 0 &&
			    strcmp(key, "password") == 0) {
				/* As GKeyFile: the last one counts. */
				wipe_free(l->password);
				l->password = parse_password_value(path, eq + 1,
								   error);
				if (l->password == NULL) {
					g_string_free(out, TRUE);
					return NULL;
				}
				g_string_append_c(out, '\n');
				continue;
			}
		}
		g_string_append(out, line);
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

/*
 * The key's string value (GKeyFile escapes applied), or NULL with
 * *ret_present false when absent. Inline comments are stripped where the
 * key allows them. False with error if the value cannot be read.
 */
static bool get_string(const Loader *l, const char *group, const char *key,
		       char **ret_value, GError **error)
{
	const KeyInfo *info = find_key(group, key);
	g_autoptr(GError) local = NULL;
	g_autofree char *value = NULL;

	g_assert(info != NULL);
	*ret_value = NULL;
	if (!g_key_file_has_key(l->kf, group, key, NULL))
		return true;
	value = g_key_file_get_string(l->kf, group, key, &local);
	/* On a bad escape GLib returns a value and sets the error. */
	if (value == NULL || local != NULL) {
		if (value != NULL)
			explicit_bzero(value, strlen(value));
		/* GLib's message may quote the value. */
		set_key_error(error, SETTINGS_ERROR_INVALID, l->path, group,
			      key, "cannot be read (bad escape sequence?)");
		return false;
	}
	if (info->inline_comment) {
		for (char *p = value; *p != '\0'; p++) {
			if (*p == ';' &&
			    (p == value || p[-1] == ' ' || p[-1] == '\t')) {
				*p = '\0';
				break;
			}
		}
		g_strstrip(value);
	}
	*ret_value = g_steal_pointer(&value);
	return true;
}

static bool parse_int(const char *str, gint64 min, gint64 max, gint64 *ret)
{
	char *end = NULL;
	gint64 n;

	if (str[0] == '\0' || g_ascii_isspace(str[0]))
		return false;
	errno = 0;
	n = g_ascii_strtoll(str, &end, 10);
	if (errno != 0 || end == str || *end != '\0' || n < min || n > max)
		return false;
	*ret = n;
	return true;
}

/* A relative path in the file is relative to the file's directory: the
 * daemon's working directory under systemd is /. */
static char *resolve_path(const Loader *l, const char *value)
{
	g_autofree char *dir = NULL;

	if (g_path_is_absolute(value))
		return g_strdup(value);
	dir = g_path_get_dirname(l->path);
	if (!g_path_is_absolute(dir)) {
		g_autofree char *cwd = g_get_current_dir();

		return g_build_filename(cwd, dir, value, NULL);
	}
	return g_build_filename(dir, value, NULL);
}

/*
 * The first line of an already opened file, "\n"/"\r\n" stripped.
 * what describes the source for messages. Never quotes the content.
 */
static char *read_secret_line(int fd, const char *what, GError **error)
{
	char buf[MAX_PASSWORD_FILE_BYTES + 1];
	size_t len = 0;
	char *nl;
	char *secret;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			explicit_bzero(buf, sizeof(buf));
			g_set_error(
				error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
				"%s: cannot read: %s", what, g_strerror(saved));
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	nl = memchr(buf, '\n', len);
	if (nl != NULL) {
		*nl = '\0';
		len = (size_t)(nl - buf);
	} else if (len == sizeof(buf) - 1) {
		explicit_bzero(buf, sizeof(buf));
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
			    "%s: first line longer than %d bytes; not a "
			    "password file",
			    what, MAX_PASSWORD_FILE_BYTES);
		return NULL;
	}
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (memchr(buf, '\0', len) != NULL || !g_utf8_validate(buf, -1, NULL)) {
		explicit_bzero(buf, sizeof(buf));
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
			    "%s: the password is not valid UTF-8 text", what);
		return NULL;
	}
	if (len == 0) {
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
			    "%s: the first line (the password) is empty", what);
		return NULL;
	}
	secret = g_strndup(buf, len);
	explicit_bzero(buf, sizeof(buf));
	return secret;
}

static char *read_password_file(const Loader *l, const char *value,
				GError **error)
{
	g_autofree char *file = NULL;
	g_autofree char *what = NULL;
	struct stat st;
	char *secret;
	int fd;

	if (value[0] == '\0') {
		set_key_error(error, SETTINGS_ERROR_PASSWORD, l->path,
			      GROUP_ACCOUNT, "password-file", "is empty");
		return NULL;
	}
	file = resolve_path(l, value);
	what = g_strdup_printf("%s: key 'password-file' in [%s]: '%s'", l->path,
			       GROUP_ACCOUNT, file);
	/* Check the file we read, not the name (no race with a swap). */
	fd = g_open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		int saved = errno;

		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
			    "%s: cannot open: %s", what, g_strerror(saved));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
			    "%s: not a regular file", what);
		return NULL;
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		(void)close(fd);
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
			    "%s: readable by group or others (mode %04o); "
			    "refusing it, run chmod 600 on it",
			    what, (unsigned)(st.st_mode & 07777));
		return NULL;
	}
	secret = read_secret_line(fd, what, error);
	(void)close(fd);
	return secret;
}

/* systemd's LoadCredential=password:... (systemd.exec(5)). The directory
 * is private to the service, so no mode check. */
static bool read_credential(const Loader *l, char **ret_password,
			    GError **error)
{
	const char *dir = g_getenv("CREDENTIALS_DIRECTORY");
	g_autofree char *file = NULL;
	g_autofree char *what = NULL;
	char *secret;
	int fd;

	*ret_password = NULL;
	if (dir == NULL || dir[0] == '\0')
		return true;
	file = g_build_filename(dir, "password", NULL);
	fd = g_open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return true;
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
			    "%s: no password in the file; credential '%s' "
			    "cannot be opened: %s",
			    l->path, file, g_strerror(errno));
		return false;
	}
	what = g_strdup_printf("%s: no password in the file; credential '%s'",
			       l->path, file);
	secret = read_secret_line(fd, what, error);
	(void)close(fd);
	if (secret == NULL)
		return false;
	*ret_password = secret;
	return true;
}

static bool load_password(Loader *l, Settings *config, GError **error)
{
	g_autofree char *file_value = NULL;

	if (l->password != NULL) {
		if (l->password[0] == '\0') {
			set_key_error(error, SETTINGS_ERROR_PASSWORD, l->path,
				      GROUP_ACCOUNT, "password", "is empty");
			return false;
		}
		config->password = g_steal_pointer(&l->password);
		return true;
	}
	if (!get_string(l, GROUP_ACCOUNT, "password-file", &file_value, error))
		return false;
	if (file_value != NULL) {
		config->password = read_password_file(l, file_value, error);
		return config->password != NULL;
	}
	if (!read_credential(l, &config->password, error))
		return false;
	if (config->password == NULL) {
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_PASSWORD,
			    "%s: key 'password' in [%s]: no password: set "
			    "'password' or 'password-file', or pass a systemd "
			    "credential named 'password'",
			    l->path, GROUP_ACCOUNT);
		return false;
	}
	return true;
}

static bool load_account(Loader *l, Settings *config, GError **error)
{
	g_autofree char *value = NULL;

	/* jid: required, bare (RFC 7622 §3). */
	if (!get_string(l, GROUP_ACCOUNT, "jid", &value, error))
		return false;
	if (value == NULL || value[0] == '\0') {
		set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
			      GROUP_ACCOUNT, "jid",
			      value == NULL ? "missing; it is required "
					      "(e.g. jid = alice@example.org)"
					    : "is empty; it is required");
		return false;
	} else {
		g_autoptr(GError) local = NULL;
		g_autoptr(Jid) jid = jid_parse(value, &local);

		if (jid == NULL) {
			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_ACCOUNT, "jid",
				      "'%s' is not a valid JID: %s", value,
				      local->message);
			return false;
		}
		if (!jid_is_bare(jid)) {
			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_ACCOUNT, "jid",
				      "'%s' is a full JID; give the bare JID "
				      "('%s') and set the resource with the "
				      "'resource' key",
				      value, jid_get_bare(jid));
			return false;
		}
		config->jid = g_strdup(jid_get_bare(jid));
	}
	g_clear_pointer(&value, g_free);

	if (!load_password(l, config, error))
		return false;

	/* resource: checked as the resourcepart of our full JID. */
	if (!get_string(l, GROUP_ACCOUNT, "resource", &value, error))
		return false;
	if (value != NULL && value[0] != '\0') {
		g_autoptr(GError) local = NULL;
		g_autofree char *full =
			g_strconcat(config->jid, "/", value, NULL);
		g_autoptr(Jid) jid = jid_parse(full, &local);

		if (jid == NULL) {
			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_ACCOUNT, "resource",
				      "'%s' is not a valid resource: %s", value,
				      local->message);
			return false;
		}
		config->resource = g_strdup(jid_get_resource(jid));
	}
	g_clear_pointer(&value, g_free);

	/* server: a host name or address; no URL, no port. */
	if (!get_string(l, GROUP_ACCOUNT, "server", &value, error))
		return false;
	if (value != NULL && value[0] != '\0') {
		for (const char *p = value; *p != '\0'; p++) {
			if (g_ascii_isspace(*p) || *p == '/' || *p == '@') {
				set_key_error(error, SETTINGS_ERROR_INVALID,
					      l->path, GROUP_ACCOUNT, "server",
					      "'%s' is not a host name or "
					      "address (put the port in "
					      "'port')",
					      value);
				return false;
			}
		}
		config->server = g_steal_pointer(&value);
	}
	g_clear_pointer(&value, g_free);

	if (!get_string(l, GROUP_ACCOUNT, "port", &value, error))
		return false;
	if (value != NULL) {
		gint64 port;

		if (!parse_int(value, 1, 65535, &port)) {
			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_ACCOUNT, "port",
				      "'%s' is not a port number (1..65535)",
				      value);
			return false;
		}
		config->port = (unsigned)port;
	}
	g_clear_pointer(&value, g_free);

	if (!get_string(l, GROUP_ACCOUNT, "tls", &value, error))
		return false;
	if (value != NULL) {
		if (strcmp(value, "starttls") == 0) {
			config->direct_tls = false;
		} else if (strcmp(value, "direct") == 0) {
			config->direct_tls = true;
		} else {
			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_ACCOUNT, "tls",
				      "'%s' is not 'starttls' or 'direct' "
				      "(TLS cannot be turned off)",
				      value);
			return false;
		}
	}
	g_clear_pointer(&value, g_free);

	if (!get_string(l, GROUP_ACCOUNT, "ca-file", &value, error))
		return false;
	if (value != NULL && value[0] != '\0') {
		g_autofree char *file = resolve_path(l, value);
		GStatBuf st;

		/* errno stays 0 for "not a regular file": no stale cause. */
		errno = 0;
		if (g_stat(file, &st) != 0 || !S_ISREG(st.st_mode) ||
		    g_access(file, R_OK) != 0) {
			int saved = errno;

			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_ACCOUNT, "ca-file",
				      "'%s' is not a readable file%s%s", file,
				      saved != 0 ? ": " : "",
				      saved != 0 ? g_strerror(saved) : "");
			return false;
		}
		config->ca_file = g_steal_pointer(&file);
	}
	return true;
}

/* A [presence] boolean; *ret untouched when the key is absent. */
static bool load_bool(const Loader *l, const char *key, bool *ret,
		      GError **error)
{
	g_autofree char *value = NULL;

	if (!get_string(l, GROUP_PRESENCE, key, &value, error))
		return false;
	if (value == NULL)
		return true;
	/* GKeyFile's booleans: true/false, also 1/0. */
	if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
		*ret = true;
	} else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
		*ret = false;
	} else {
		set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
			      GROUP_PRESENCE, key,
			      "'%s' is not 'true' or 'false'", value);
		return false;
	}
	return true;
}

/*
 * A [presence] count of minutes, 0 (off) up to a week: longer is no
 * longer "idle", and the bound keeps the milliseconds far from overflow.
 */
#define MAX_IDLE_MINUTES (7 * 24 * 60)

static bool load_minutes(const Loader *l, const char *key, unsigned *ret,
			 GError **error)
{
	g_autofree char *value = NULL;
	gint64 minutes;

	if (!get_string(l, GROUP_PRESENCE, key, &value, error))
		return false;
	if (value == NULL)
		return true;
	if (!parse_int(value, 0, MAX_IDLE_MINUTES, &minutes)) {
		set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
			      GROUP_PRESENCE, key,
			      "'%s' is not a number of minutes in 0..%d "
			      "(0 turns it off)",
			      value, MAX_IDLE_MINUTES);
		return false;
	}
	*ret = (unsigned)minutes;
	return true;
}

static bool load_presence(const Loader *l, Settings *config, GError **error)
{
	g_autofree char *value = NULL;

	if (!get_string(l, GROUP_PRESENCE, "show", &value, error))
		return false;
	if (value != NULL &&
	    !presence_show_from_string(value, false, &config->show)) {
		set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
			      GROUP_PRESENCE, "show",
			      "'%s' is not one of available, chat, away, xa, "
			      "dnd, offline",
			      value);
		return false;
	}
	g_clear_pointer(&value, g_free);

	if (!get_string(l, GROUP_PRESENCE, "status", &value, error))
		return false;
	if (value != NULL) {
		if (strlen(value) > PRESENCE_MAX_STATUS_BYTES) {
			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_PRESENCE, "status",
				      "%zu bytes long; at most %d allowed",
				      strlen(value), PRESENCE_MAX_STATUS_BYTES);
			return false;
		}
		g_free(config->status);
		config->status = g_steal_pointer(&value);
	}

	if (!get_string(l, GROUP_PRESENCE, "priority", &value, error))
		return false;
	if (value != NULL) {
		gint64 priority;

		if (!parse_int(value, -128, 127, &priority)) {
			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_PRESENCE, "priority",
				      "'%s' is not an integer in -128..127",
				      value);
			return false;
		}
		config->priority = (int)priority;
	}
	g_clear_pointer(&value, g_free);

	if (!get_string(l, GROUP_PRESENCE, "nick", &value, error))
		return false;
	if (value != NULL && value[0] != '\0') {
		if (strlen(value) > PRESENCE_MAX_NICK_BYTES) {
			set_key_error(error, SETTINGS_ERROR_INVALID, l->path,
				      GROUP_PRESENCE, "nick",
				      "%zu bytes long; at most %d allowed",
				      strlen(value), PRESENCE_MAX_NICK_BYTES);
			return false;
		}
		config->nick = g_steal_pointer(&value);
	}
	g_clear_pointer(&value, g_free);

	return load_bool(l, "away-on-lock", &config->away_on_lock, error) &&
	       load_minutes(l, "away-after", &config->away_after, error) &&
	       load_minutes(l, "xa-after", &config->xa_after, error) &&
	       load_bool(l, "dnd-follows-desktop", &config->dnd_follows_desktop,
			 error);
}

Settings *settings_load(const char *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(Settings) config = g_new0(Settings, 1);
	g_autoptr(GError) local = NULL;
	g_autofree char *data = NULL;
	g_autofree char *text = NULL;
	Loader l = {.path = path, .kf = kf};
	gsize len = 0;
	bool ok;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!g_file_get_contents(path, &data, &len, &local)) {
		/* GLib's message names the file and the reason. */
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_READ,
			    "%s: cannot read the configuration file: %s", path,
			    local->message);
		return NULL;
	}
	text = preprocess(&l, data, len, error);
	/* data holds the password line: wipe the raw copy now. text does
	 * not (preprocess took the password out). */
	explicit_bzero(data, len);
	if (text == NULL) {
		wipe_free(l.password);
		return NULL;
	}
	if (!g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE,
				       &local)) {
		wipe_free(l.password);
		/* GLib's message quotes lines; we give none away. */
		g_set_error(error, SETTINGS_ERROR, SETTINGS_ERROR_READ,
			    "%s: syntax error (not a valid key file)", path);
		return NULL;
	}

	config->path = g_strdup(path);
	config->show = PRESENCE_SHOW_AVAILABLE;
	config->status = g_strdup("");
	/*
	 * Negative by default: this daemon reads no messages, so chat sent to
	 * the bare JID must not be routed to it (RFC 6121 §8.5.2.1.1).
	 */
	config->priority = -1;
	config->away_on_lock = true;
	config->away_after = 5;
	config->xa_after = 15;
	config->dnd_follows_desktop = true;

	ok = load_account(&l, config, error) &&
	     load_presence(&l, config, error);
	wipe_free(l.password); /* NULL if config took it */
	return ok ? g_steal_pointer(&config) : NULL;
}
