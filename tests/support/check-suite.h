/* SPDX-License-Identifier: MIT */
/*
 * One check suite from a case table, run with TAP on stdout (STYLE.md §9,
 * §11). A row is one test; consecutive rows with the same name share one
 * TCase, so the TAP line of a test reads "file:name:test_function: ...".
 *
 * Typical use (the table is automatic: START_TEST's names are variables):
 *
 *	int main(void)
 *	{
 *		static const CheckFixture tmpdir = {setup, teardown};
 *		const CheckCase cases[] = {
 *			{"parse", test_parse},
 *			{"parse", test_parse_errors},
 *			{"rows", test_row, .loops = G_N_ELEMENTS(rows)},
 *			{"files", test_files, .timeout = 60, .fixture =
 *&tmpdir},
 *		};
 *
 *		return check_suite_run("module", cases, G_N_ELEMENTS(cases),
 *				       30);
 *	}
 *
 * The runner forks or not as check decides from CK_FORK (no under gdb or
 * valgrind), exactly as a bare srunner_run_all() does.
 */
#pragma once

#include <check.h>
#include <stddef.h>

/* A checked fixture: setup and teardown run around each test, in its own
 * process when check forks. */
typedef struct {
	SFun setup;
	SFun teardown;
} CheckFixture;

typedef struct {
	/* The TCase; consecutive rows with the same name share it. */
	const char *name;
	const TTest *test;
	/* > 0: a loop test, run with _i from 0 to loops - 1. */
	int loops;
	/* Seconds for this TCase; 0: the suite's. */
	int timeout;
	/* Checked fixture of this TCase, or NULL. */
	const CheckFixture *fixture;
} CheckCase;

/*
 * Builds Suite @suite_name from @cases (@n_cases rows), every TCase with
 * @timeout seconds unless its first row says otherwise, and runs it with
 * TAP on stdout. A TCase takes its timeout and fixture from its first row;
 * a later row of it must leave them unset or repeat them (otherwise: "Bail
 * out!" and failure, nothing run). Returns the exit status for main():
 * EXIT_SUCCESS when no test failed, else EXIT_FAILURE.
 */
int check_suite_run(const char *suite_name, const CheckCase *cases,
		    size_t n_cases, int timeout);
