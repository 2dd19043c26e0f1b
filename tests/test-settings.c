/* SPDX-License-Identifier: MIT */
/*
 * The config loader: a table of good and bad files written to a temporary
 * directory. Every error must name the file and the key, and no error may
 * ever contain the password.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "daemon/settings.h"
#include "tests/support/check-suite.h"

#define PW "S3cr3t-PW-xyzzy"
#define ACCOUNT "[account]\njid = alice@example.org\npassword = " PW "\n"

static char *tmpdir;

static void setup(void)
{
	GError *error = NULL;

	tmpdir = g_dir_make_tmp("presenced-config-XXXXXX", &error);
	ck_assert_msg(tmpdir != NULL, "%s", error ? error->message : "");
	g_unsetenv("CREDENTIALS_DIRECTORY");
}

static void rm_rf(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			rm_rf(path);
		else
			(void)g_unlink(path);
	}
	(void)g_rmdir(dir);
}

static void teardown(void)
{
	rm_rf(tmpdir);
	g_clear_pointer(&tmpdir, g_free);
}

static char *write_file(const char *name, const char *content, int mode)
{
	char *path = g_build_filename(tmpdir, name, NULL);
	GError *error = NULL;

	ck_assert_msg(g_file_set_contents(path, content, -1, &error), "%s",
		      error ? error->message : "");
	ck_assert_int_eq(g_chmod(path, mode), 0);
	return path;
}

static Settings *load_text(const char *content, GError **error)
{
	g_autofree char *path = write_file("presenced.conf", content, 0600);

	return settings_load(path, error);
}

/* ---- good files -----------------------------------------------------------
 */

START_TEST(test_minimal_defaults)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) c = load_text(ACCOUNT, &error);

	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert(strstr(c->path, "presenced.conf") != NULL);
	ck_assert_str_eq(c->jid, "alice@example.org");
	ck_assert_str_eq(c->password, PW);
	ck_assert(c->resource == NULL);
	ck_assert(c->server == NULL);
	ck_assert_uint_eq(c->port, 0);
	ck_assert(!c->direct_tls);
	ck_assert(c->ca_file == NULL);
	ck_assert_int_eq(c->show, PRESENCE_SHOW_AVAILABLE);
	ck_assert_str_eq(c->status, "");
	ck_assert_int_eq(c->priority, -1);
	ck_assert(c->nick == NULL);
	ck_assert(c->away_on_lock);
	/* CONTRACT.md "Desktop": away after 5, xa after 15, DND followed. */
	ck_assert_uint_eq(c->away_after, 5);
	ck_assert_uint_eq(c->xa_after, 15);
	ck_assert(c->dnd_follows_desktop);
}
END_TEST

START_TEST(test_full)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *ca = write_file("ca.pem", "-----BEGIN\n", 0644);
	g_autofree char *text = g_strdup_printf(
		"# a comment\n"
		"[account]\n"
		"jid = Alice@Example.ORG\n"
		"password = pass word with spaces ; and a semicolon\n"
		"resource = laptop\n"
		"server = xmpp.example.net\n"
		"port = 5223\n"
		"tls = direct\n"
		"ca-file = %s\n"
		"\n"
		"[presence]\n"
		"show = dnd\n"
		"status = In a meeting ; back at 3\n"
		"priority = -1\n"
		"nick = Alice L.\n"
		"away-on-lock = false\n"
		"away-after = 10\n"
		"xa-after = 0\n"
		"dnd-follows-desktop = false\n",
		ca);
	g_autoptr(Settings) c = load_text(text, &error);

	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(c->jid, "alice@example.org");
	ck_assert_str_eq(c->password,
			 "pass word with spaces ; and a semicolon");
	ck_assert_str_eq(c->resource, "laptop");
	ck_assert_str_eq(c->server, "xmpp.example.net");
	ck_assert_uint_eq(c->port, 5223);
	ck_assert(c->direct_tls);
	ck_assert_str_eq(c->ca_file, ca);
	ck_assert_int_eq(c->show, PRESENCE_SHOW_DND);
	ck_assert_str_eq(c->status, "In a meeting ; back at 3");
	ck_assert_int_eq(c->priority, -1);
	ck_assert_str_eq(c->nick, "Alice L.");
	ck_assert(!c->away_on_lock);
	ck_assert_uint_eq(c->away_after, 10);
	ck_assert_uint_eq(c->xa_after, 0);
	ck_assert(!c->dnd_follows_desktop);
}
END_TEST

START_TEST(test_contract_comments)
{
	/* CONTRACT.md's example style: ';' comments, inline and on their
	 * own line. */
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) c = load_text(
		"[account]\n"
		"jid = alice@example.org        ; required, bare JID\n"
		"password = secret\n"
		"port = 5222                    ; optional\n"
		"tls = starttls                 ; starttls (default) | direct\n"
		"\n"
		"[presence]\n"
		"show = away                    ; initial presence\n"
		"priority = -1                  ; -128..127; negative keeps\n"
		"                               ; away from a resource\n"
		"away-on-lock = true            ; screen lock sets away\n"
		"away-after = 3                 ; minutes\n"
		"xa-after = 30                  ; minutes\n"
		"dnd-follows-desktop = 1        ; busy in DND\n",
		&error);

	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(c->jid, "alice@example.org");
	ck_assert_str_eq(c->password, "secret");
	ck_assert_uint_eq(c->port, 5222);
	ck_assert(!c->direct_tls);
	ck_assert_int_eq(c->show, PRESENCE_SHOW_AWAY);
	ck_assert_int_eq(c->priority, -1);
	ck_assert(c->away_on_lock);
	ck_assert_uint_eq(c->away_after, 3);
	ck_assert_uint_eq(c->xa_after, 30);
	ck_assert(c->dnd_follows_desktop);
}
END_TEST

START_TEST(test_good_values)
{
	static const char *const good[] = {
		ACCOUNT "port = 1\n",
		ACCOUNT "port = 65535\n",
		ACCOUNT "tls = starttls\n",
		ACCOUNT "resource =\n",
		"[presence]\nshow = chat\n" ACCOUNT,
		ACCOUNT "[presence]\nshow = available\n",
		ACCOUNT "[presence]\nshow = away\n",
		ACCOUNT "[presence]\nshow = xa\n",
		ACCOUNT "[presence]\nshow = offline\n",
		ACCOUNT "[presence]\npriority = 127\n",
		ACCOUNT "[presence]\npriority = -128\n",
		ACCOUNT "[presence]\naway-on-lock = 1\n",
		ACCOUNT "[presence]\naway-after = 0\nxa-after = 10080\n",
		ACCOUNT "[presence]\ndnd-follows-desktop = 0\n",
		ACCOUNT "[presence]\nstatus =\nnick =\n",
		"\xef\xbb\xbf" ACCOUNT, /* a UTF-8 BOM, as some editors write */
		"\r\n[account]\r\njid = alice@example.org\r\npassword = x\r\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(Settings) c = load_text(good[i], &error);

		ck_assert_msg(c != NULL, "case %zu: %s", i,
			      error ? error->message : "");
	}
}
END_TEST

/* ---- bad files ------------------------------------------------------------
 */

typedef struct {
	const char *text;
	SettingsError code;
	const char *must_contain[3]; /* besides the file name */
} BadCase;

static const BadCase bad_cases[] = {
	{"[account]\npassword = " PW "\n",
	 SETTINGS_ERROR_INVALID,
	 {"'jid'", "[account]", "missing"}},
	{"[account]\njid =\npassword = " PW "\n",
	 SETTINGS_ERROR_INVALID,
	 {"'jid'"}},
	{"[account]\njid = alice@example.org/laptop\npassword = " PW "\n",
	 SETTINGS_ERROR_INVALID,
	 {"'jid'", "full JID", "'resource'"}},
	{"[account]\njid = not a jid@@\npassword = " PW "\n",
	 SETTINGS_ERROR_INVALID,
	 {"'jid'", "not a valid JID"}},
	{ACCOUNT "foo = bar\n",
	 SETTINGS_ERROR_INVALID,
	 {"unknown key 'foo' in [account]"}},
	{ACCOUNT "[presence]\nstauts = hi\n",
	 SETTINGS_ERROR_INVALID,
	 {"unknown key 'stauts' in [presence]"}},
	{ACCOUNT "[presence]\npassword = x\n",
	 SETTINGS_ERROR_INVALID,
	 {"unknown key 'password' in [presence]"}},
	{ACCOUNT "[acount]\njid = x@y\n",
	 SETTINGS_ERROR_INVALID,
	 {"unknown group [acount]"}},
	{ACCOUNT "status[de] = hallo\n",
	 SETTINGS_ERROR_INVALID,
	 {"unknown key 'status[de]'"}},
	{ACCOUNT "port = 0\n", SETTINGS_ERROR_INVALID, {"'port'", "1..65535"}},
	{ACCOUNT "port = 65536\n", SETTINGS_ERROR_INVALID, {"'port'"}},
	{ACCOUNT "port = 52a\n", SETTINGS_ERROR_INVALID, {"'port'"}},
	{ACCOUNT "port = -5\n", SETTINGS_ERROR_INVALID, {"'port'"}},
	{ACCOUNT "port =\n", SETTINGS_ERROR_INVALID, {"'port'"}},
	{ACCOUNT "tls = none\n", SETTINGS_ERROR_INVALID, {"'tls'", "'none'"}},
	{ACCOUNT "tls = STARTTLS\n", SETTINGS_ERROR_INVALID, {"'tls'"}},
	{ACCOUNT "ca-file = /nonexistent/ca.pem\n",
	 SETTINGS_ERROR_INVALID,
	 {"'ca-file'", "/nonexistent/ca.pem"}},
	{ACCOUNT "ca-file = /\n", SETTINGS_ERROR_INVALID, {"'ca-file'"}},
	{ACCOUNT "server = host:5222/x\n",
	 SETTINGS_ERROR_INVALID,
	 {"'server'"}},
	{ACCOUNT "[presence]\nshow = unknown\n",
	 SETTINGS_ERROR_INVALID,
	 {"'show'", "[presence]", "'unknown'"}},
	{ACCOUNT "[presence]\nshow = busy\n",
	 SETTINGS_ERROR_INVALID,
	 {"'show'"}},
	{ACCOUNT "[presence]\npriority = 128\n",
	 SETTINGS_ERROR_INVALID,
	 {"'priority'", "-128..127"}},
	{ACCOUNT "[presence]\npriority = -129\n",
	 SETTINGS_ERROR_INVALID,
	 {"'priority'"}},
	{ACCOUNT "[presence]\npriority = 1.5\n",
	 SETTINGS_ERROR_INVALID,
	 {"'priority'"}},
	{ACCOUNT "[presence]\npriority = 99999999999999999999\n",
	 SETTINGS_ERROR_INVALID,
	 {"'priority'"}},
	{ACCOUNT "[presence]\naway-on-lock = maybe\n",
	 SETTINGS_ERROR_INVALID,
	 {"'away-on-lock'", "'maybe'"}},
	{ACCOUNT "[presence]\naway-after = -1\n",
	 SETTINGS_ERROR_INVALID,
	 {"'away-after'", "'-1'", "minutes"}},
	{ACCOUNT "[presence]\naway-after = 5m\n",
	 SETTINGS_ERROR_INVALID,
	 {"'away-after'", "'5m'"}},
	{ACCOUNT "[presence]\nxa-after = 10081\n",
	 SETTINGS_ERROR_INVALID,
	 {"'xa-after'", "0..10080"}},
	{ACCOUNT "[presence]\nxa-after =\n",
	 SETTINGS_ERROR_INVALID,
	 {"'xa-after'"}},
	{ACCOUNT "[presence]\ndnd-follows-desktop = yes\n",
	 SETTINGS_ERROR_INVALID,
	 {"'dnd-follows-desktop'", "'yes'", "'true' or 'false'"}},
	{"[account]\njid = alice@example.org\n",
	 SETTINGS_ERROR_PASSWORD,
	 {"'password'", "password-file"}},
	{"[account]\njid = alice@example.org\npassword =\n",
	 SETTINGS_ERROR_PASSWORD,
	 {"'password'", "empty"}},
	{"[account]\njid = alice@example.org\npassword-file = /nonexistent\n",
	 SETTINGS_ERROR_PASSWORD,
	 {"'password-file'", "/nonexistent"}},
	{"[account]\njid = alice@example.org\npassword-file =\n",
	 SETTINGS_ERROR_PASSWORD,
	 {"'password-file'"}},
	{"[account]\njid = alice@example.org\npassword-file = /\n",
	 SETTINGS_ERROR_PASSWORD,
	 {"'password-file'", "regular"}},
	/* Syntax errors: the line number, never the line (a password). */
	{"[account]\njid = alice@example.org\npassword " PW "\n",
	 SETTINGS_ERROR_READ,
	 {"line 3"}},
	{"jid = alice@example.org\n[account]\npassword = " PW "\n",
	 SETTINGS_ERROR_READ,
	 {"line 1", "'jid'", "outside any group"}},
	{"[account\njid = x\n", SETTINGS_ERROR_READ, {"line 1", "group"}},
	{"[account]\njid = alice@example.org\npassword = " PW "\\q\n",
	 SETTINGS_ERROR_INVALID,
	 {"'password'"}},
	{"[account]\njid = alice@example.org\npassword = \xff" PW "\n",
	 SETTINGS_ERROR_READ,
	 {"UTF-8"}},
};

START_TEST(test_bad)
{
	const BadCase *bc = &bad_cases[_i];
	g_autofree char *path = write_file("presenced.conf", bc->text, 0600);
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) c = settings_load(path, &error);

	ck_assert_msg(c == NULL, "case %d loaded", _i);
	ck_assert(error != NULL);
	ck_assert_msg(g_error_matches(error, SETTINGS_ERROR, (gint)bc->code),
		      "case %d: code %d, wanted %d: %s", _i, error->code,
		      bc->code, error->message);
	ck_assert_msg(strstr(error->message, path) != NULL,
		      "case %d: no file name in: %s", _i, error->message);
	for (size_t j = 0; j < G_N_ELEMENTS(bc->must_contain); j++) {
		if (bc->must_contain[j] == NULL)
			break;
		ck_assert_msg(strstr(error->message, bc->must_contain[j]) !=
				      NULL,
			      "case %d: '%s' not in: %s", _i,
			      bc->must_contain[j], error->message);
	}
	/* The password never appears in an error. */
	ck_assert_msg(strstr(error->message, PW) == NULL,
		      "case %d: password in: %s", _i, error->message);
	ck_assert(strstr(error->message, "xyzzy") == NULL);
}
END_TEST

START_TEST(test_status_too_long)
{
	g_autofree char *status = g_strnfill(1025, 'x');
	g_autofree char *text =
		g_strdup_printf(ACCOUNT "[presence]\nstatus = %s\n", status);
	g_autofree char *ok_text = g_strdup_printf(
		ACCOUNT "[presence]\nstatus = %.1024s\n", status);
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) c = load_text(text, &error);
	g_autoptr(Settings) ok = NULL;

	ck_assert(c == NULL);
	ck_assert(
		g_error_matches(error, SETTINGS_ERROR, SETTINGS_ERROR_INVALID));
	ck_assert(strstr(error->message, "'status'") != NULL);
	ck_assert(strstr(error->message, "1024") != NULL);
	g_clear_error(&error);
	ok = load_text(ok_text, &error);
	ck_assert_msg(ok != NULL, "%s", error ? error->message : "");
	ck_assert_uint_eq(strlen(ok->status), 1024);
}
END_TEST

START_TEST(test_missing_file)
{
	g_autofree char *path = g_build_filename(tmpdir, "nope.conf", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) c = settings_load(path, &error);

	ck_assert(c == NULL);
	ck_assert(g_error_matches(error, SETTINGS_ERROR, SETTINGS_ERROR_READ));
	ck_assert(strstr(error->message, path) != NULL);
}
END_TEST

/* ---- password sources -----------------------------------------------------
 */

START_TEST(test_password_file_mode)
{
	g_autofree char *pwfile = write_file("pw", PW "\nsecond line\n", 0644);
	g_autofree char *text = g_strdup_printf(
		"[account]\njid = alice@example.org\npassword-file = %s\n",
		pwfile);
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) c = load_text(text, &error);

	/* 0644: readable by others, refused. */
	ck_assert(c == NULL);
	ck_assert(g_error_matches(error, SETTINGS_ERROR,
				  SETTINGS_ERROR_PASSWORD));
	ck_assert(strstr(error->message, "'password-file'") != NULL);
	ck_assert(strstr(error->message, pwfile) != NULL);
	ck_assert(strstr(error->message, "0644") != NULL);
	ck_assert(strstr(error->message, PW) == NULL);
	g_clear_error(&error);

	/* 0640: group-readable, refused too. */
	ck_assert_int_eq(g_chmod(pwfile, 0640), 0);
	c = load_text(text, &error);
	ck_assert(c == NULL);
	ck_assert(g_error_matches(error, SETTINGS_ERROR,
				  SETTINGS_ERROR_PASSWORD));
	g_clear_error(&error);

	/* 0600: first line, newline stripped. */
	ck_assert_int_eq(g_chmod(pwfile, 0600), 0);
	c = load_text(text, &error);
	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(c->password, PW);
}
END_TEST

START_TEST(test_password_file_forms)
{
	static const struct {
		const char *content;
		const char *password; /* NULL: error */
	} forms[] = {
		{PW, PW},
		{PW "\r\n", PW},
		{"  spaced pw \n", "  spaced pw "},
		{"\n" PW "\n", NULL},
		{"", NULL},
		{"\xff\xfe\n", NULL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
		g_autofree char *pwfile =
			write_file("pw", forms[i].content, 0600);
		/* Relative to the config file's directory. */
		g_autoptr(GError) error = NULL;
		g_autoptr(Settings) c =
			load_text("[account]\njid = alice@example.org\n"
				  "password-file = pw\n",
				  &error);

		ck_assert(g_file_test(pwfile, G_FILE_TEST_IS_REGULAR));
		if (forms[i].password != NULL) {
			ck_assert_msg(c != NULL, "form %zu: %s", i,
				      error ? error->message : "");
			ck_assert_str_eq(c->password, forms[i].password);
		} else {
			ck_assert_msg(c == NULL, "form %zu loaded", i);
			ck_assert(g_error_matches(error, SETTINGS_ERROR,
						  SETTINGS_ERROR_PASSWORD));
			ck_assert(strstr(error->message, "'password-file'"));
		}
	}
}
END_TEST

START_TEST(test_credential)
{
	g_autofree char *creddir = g_build_filename(tmpdir, "creds", NULL);
	g_autofree char *cred = g_build_filename(creddir, "password", NULL);
	g_autofree char *pwfile = write_file("pw", "from-file\n", 0600);
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) c = NULL;

	ck_assert(g_file_test(pwfile, G_FILE_TEST_IS_REGULAR));
	ck_assert_int_eq(g_mkdir(creddir, 0700), 0);
	ck_assert(g_file_set_contents(cred, "from-credential\n", -1, NULL));
	g_setenv("CREDENTIALS_DIRECTORY", creddir, TRUE);

	/* No password key: the credential. */
	c = load_text("[account]\njid = alice@example.org\n", &error);
	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(c->password, "from-credential");
	g_clear_pointer(&c, settings_free);

	/* password-file wins over the credential... */
	c = load_text(
		"[account]\njid = alice@example.org\npassword-file = pw\n",
		&error);
	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(c->password, "from-file");
	g_clear_pointer(&c, settings_free);

	/* ...and password over both. */
	c = load_text("[account]\njid = alice@example.org\npassword = direct\n"
		      "password-file = pw\n",
		      &error);
	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(c->password, "direct");
	g_clear_pointer(&c, settings_free);

	/* A credential directory without "password": no password. */
	ck_assert_int_eq(g_unlink(cred), 0);
	c = load_text("[account]\njid = alice@example.org\n", &error);
	ck_assert(c == NULL);
	ck_assert(g_error_matches(error, SETTINGS_ERROR,
				  SETTINGS_ERROR_PASSWORD));
	g_clear_error(&error);

	/* An empty credential is an error naming it. */
	ck_assert(g_file_set_contents(cred, "", -1, NULL));
	c = load_text("[account]\njid = alice@example.org\n", &error);
	ck_assert(c == NULL);
	ck_assert(g_error_matches(error, SETTINGS_ERROR,
				  SETTINGS_ERROR_PASSWORD));
	ck_assert(strstr(error->message, cred) != NULL);
	g_unsetenv("CREDENTIALS_DIRECTORY");
}
END_TEST

START_TEST(test_password_escapes)
{
	/* GKeyFile's string rules, applied by our own parser. */
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) c = load_text("[account]\n"
					  "jid = alice@example.org\n"
					  "password = first\n"
					  "password =  \\sa\\\\b\\t=c#d;e \n",
					  &error);

	ck_assert_msg(c != NULL, "%s", error ? error->message : "");
	ck_assert_str_eq(c->password, " a\\b\t=c#d;e ");
}
END_TEST

START_TEST(test_default_path)
{
	g_autofree char *path = settings_default_path();
	g_autofree char *want = g_build_filename(
		g_get_user_config_dir(), "presenced", "presenced.conf", NULL);

	ck_assert_str_eq(path, want);
}
END_TEST

int main(void)
{
	static const CheckFixture dir = {setup, teardown};
	const CheckCase cases[] = {
		{"minimal-defaults", test_minimal_defaults, .fixture = &dir},
		{"full", test_full, .fixture = &dir},
		{"contract-comments", test_contract_comments, .fixture = &dir},
		{"good-values", test_good_values, .fixture = &dir},
		{"status-too-long", test_status_too_long, .fixture = &dir},
		{"missing-file", test_missing_file, .fixture = &dir},
		{"password-file-mode", test_password_file_mode,
		 .fixture = &dir},
		{"password-file-forms", test_password_file_forms,
		 .fixture = &dir},
		{"credential", test_credential, .fixture = &dir},
		{"password-escapes", test_password_escapes, .fixture = &dir},
		{"default-path", test_default_path, .fixture = &dir},
		{"bad", test_bad, .loops = G_N_ELEMENTS(bad_cases),
		 .fixture = &dir},
	};

	return check_suite_run("config", cases, G_N_ELEMENTS(cases), 30);
}
