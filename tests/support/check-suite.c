/* SPDX-License-Identifier: MIT */
/* A check suite from a case table: see check-suite.h. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/check-suite.h"

/* Row @i opens a TCase: the first row, or a name other than the last. */
static int opens_tcase(const CheckCase *cases, size_t i)
{
	return i == 0 || strcmp(cases[i].name, cases[i - 1].name) != 0;
}

/* A later row of a TCase may not contradict the first one. */
static int agrees(const CheckCase *first, const CheckCase *row)
{
	return (row->timeout == 0 || row->timeout == first->timeout) &&
	       (row->fixture == NULL || row->fixture == first->fixture);
}

int check_suite_run(const char *suite_name, const CheckCase *cases,
		    size_t n_cases, int timeout)
{
	const CheckCase *first = NULL;
	Suite *s;
	SRunner *sr;
	TCase *tc = NULL;
	int failed;

	for (size_t i = 0; i < n_cases; i++) {
		if (opens_tcase(cases, i))
			first = &cases[i];
		else if (!agrees(first, &cases[i])) {
			printf("Bail out! %s: row %zu (%s) sets another "
			       "timeout or fixture than its TCase\n",
			       suite_name, i, cases[i].name);
			return EXIT_FAILURE;
		}
	}

	s = suite_create(suite_name);
	for (size_t i = 0; i < n_cases; i++) {
		const CheckCase *c = &cases[i];

		if (opens_tcase(cases, i)) {
			tc = tcase_create(c->name);
			tcase_set_timeout(tc, c->timeout > 0 ? c->timeout
							     : timeout);
			if (c->fixture != NULL)
				tcase_add_checked_fixture(tc, c->fixture->setup,
							  c->fixture->teardown);
			suite_add_tcase(s, tc);
		}
		if (c->loops > 0)
			tcase_add_loop_test(tc, c->test, 0, c->loops);
		else
			tcase_add_test(tc, c->test);
	}

	sr = srunner_create(s);
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
