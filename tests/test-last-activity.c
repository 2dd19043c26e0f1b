/* SPDX-License-Identifier: MIT */
/*
 * core/last-activity.c: the XEP-0012 reply and who may have it.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/last-activity.h"
#include "tests/support/check-suite.h"
#include "tests/support/stanza-parse.h"

START_TEST(test_build_result)
{
	g_autoptr(Stanza) zero = last_activity_build_result(0);
	g_autoptr(Stanza) some = last_activity_build_result(903);
	g_autoptr(Stanza) huge = last_activity_build_result(UINT64_MAX);
	g_autofree char *xz = stanza_to_string(zero);
	g_autofree char *xs = stanza_to_string(some);

	ck_assert_str_eq(xz, "<query xmlns='jabber:iq:last' seconds='0'/>");
	ck_assert_str_eq(xs, "<query xmlns='jabber:iq:last' seconds='903'/>");
	ck_assert_str_eq(stanza_get_attr(huge, "seconds"),
			 "18446744073709551615");
}
END_TEST

/* Only contacts subscribed to our presence (contract, version 3). */
START_TEST(test_may_answer)
{
	ck_assert(last_activity_may_answer(ROSTER_SUBSCRIPTION_FROM));
	ck_assert(last_activity_may_answer(ROSTER_SUBSCRIPTION_BOTH));
	ck_assert(!last_activity_may_answer(ROSTER_SUBSCRIPTION_TO));
	ck_assert(!last_activity_may_answer(ROSTER_SUBSCRIPTION_NONE));
}
END_TEST

static const struct {
	const char *xml;
	bool query;
} queries[] = {
	{"<iq type='get' id='l1' from='romeo@montague.net/orchard'>"
	 "<query xmlns='jabber:iq:last'/></iq>",
	 true},
	{"<iq type='set'><query xmlns='jabber:iq:last'/></iq>", false},
	{"<iq type='result'><query xmlns='jabber:iq:last' seconds='1'/></iq>",
	 false},
	{"<iq type='get'><query xmlns='jabber:iq:version'/></iq>", false},
	{"<iq type='get'/>", false},
	{"<message type='get'><query xmlns='jabber:iq:last'/></message>",
	 false},
};

START_TEST(test_is_query)
{
	g_autoptr(Stanza) s = test_parse_stanza(queries[_i].xml);

	ck_assert_int_eq(last_activity_is_query(s), queries[_i].query);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"result", test_build_result},
		{"who", test_may_answer},
		{"query", test_is_query, .loops = G_N_ELEMENTS(queries)},
	};

	return check_suite_run("last-activity", cases, G_N_ELEMENTS(cases), 30);
}
