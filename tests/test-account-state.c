/* SPDX-License-Identifier: MIT */
/*
 * The per-account state file: the SCRAM mark round-trips per account,
 * the file is private, and a broken file means "nothing known".
 */
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "daemon/account-state.h"
#include "tests/support/check-suite.h"

static char *tmp_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("presenced-state-XXXXXX", &error);

	ck_assert_msg(dir != NULL, "%s", error ? error->message : "");
	return dir;
}

static void remove_tree(const char *dir)
{
	g_autofree char *sub = g_build_filename(dir, "state", NULL);
	g_autofree char *file = account_state_path(sub);

	(void)g_unlink(file);
	(void)g_rmdir(sub);
	(void)g_rmdir(dir);
}

START_TEST(test_mark_round_trip)
{
	g_autofree char *top = tmp_dir();
	g_autofree char *dir = g_build_filename(top, "state", NULL);
	g_autofree char *path = account_state_path(dir);
	g_autoptr(GError) error = NULL;
	GStatBuf st;

	ck_assert(!account_state_scram_worked(dir, "alice@example.org"));
	ck_assert(account_state_mark_scram_worked(dir, "alice@example.org",
						  &error));
	ck_assert(account_state_scram_worked(dir, "alice@example.org"));
	ck_assert(!account_state_scram_worked(dir, "bob@example.org"));
	/* Again: nothing changes. */
	ck_assert(account_state_mark_scram_worked(dir, "alice@example.org",
						  &error));
	ck_assert(account_state_mark_scram_worked(dir, "bob@example.org",
						  &error));
	ck_assert(account_state_scram_worked(dir, "alice@example.org"));
	ck_assert(account_state_scram_worked(dir, "bob@example.org"));
	ck_assert_int_eq(g_stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(g_stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	remove_tree(top);
}
END_TEST

START_TEST(test_broken_file_is_empty)
{
	g_autofree char *top = tmp_dir();
	g_autofree char *dir = g_build_filename(top, "state", NULL);
	g_autofree char *path = account_state_path(dir);
	g_autoptr(GError) error = NULL;

	ck_assert_int_eq(g_mkdir(dir, 0700), 0);
	ck_assert(
		g_file_set_contents(path, "[unterminated\n\xff\xfe", -1, NULL));
	ck_assert(!account_state_scram_worked(dir, "alice@example.org"));
	/* Marking replaces the broken file with a good one. */
	ck_assert(account_state_mark_scram_worked(dir, "alice@example.org",
						  &error));
	ck_assert(account_state_scram_worked(dir, "alice@example.org"));
	remove_tree(top);
}
END_TEST

START_TEST(test_unwritable_dir)
{
	g_autoptr(GError) error = NULL;

	ck_assert(!account_state_mark_scram_worked(
		"/proc/presenced-no-such-dir", "alice@example.org", &error));
	ck_assert_ptr_nonnull(error);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"mark-round-trip", test_mark_round_trip},
		{"broken-file-is-empty", test_broken_file_is_empty},
		{"unwritable-dir", test_unwritable_dir},
	};

	return check_suite_run("account-state", cases, G_N_ELEMENTS(cases), 30);
}
