/* SPDX-License-Identifier: MIT */
/*
 * XEP-0198 bookkeeping: counters, the unacked queue and its bound, acks
 * (late, wrapping, too high) and the resumption id.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/stream-mgmt.h"
#include "tests/support/check-suite.h"

static void push(StreamMgmt *sm, const char *xml)
{
	stream_mgmt_push_outbound(sm, xml, strlen(xml));
}

START_TEST(test_counts_and_queue)
{
	g_autoptr(StreamMgmt) sm = stream_mgmt_new();
	g_autoptr(GError) error = NULL;
	size_t len = 0;

	stream_mgmt_start(sm);
	ck_assert_uint_eq(stream_mgmt_get_inbound(sm), 0);
	stream_mgmt_count_inbound(sm);
	stream_mgmt_count_inbound(sm);
	ck_assert_uint_eq(stream_mgmt_get_inbound(sm), 2);

	push(sm, "<presence/>");
	push(sm, "<iq id='1'/>");
	push(sm, "<iq id='2'/>");
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm), 3);
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), 3);
	ck_assert(stream_mgmt_ack(sm, 2, &error));
	ck_assert_ptr_null(error);
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm), 1);
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), 1);
	ck_assert_str_eq(stream_mgmt_get_queued(sm, 0, &len), "<iq id='2'/>");
	ck_assert_uint_eq(len, strlen("<iq id='2'/>"));
	ck_assert_ptr_null(stream_mgmt_get_queued(sm, 1, NULL));

	/* The same ack again, or an older one: nothing changes. */
	ck_assert(stream_mgmt_ack(sm, 2, NULL));
	ck_assert(stream_mgmt_ack(sm, 1, NULL));
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), 1);

	/* More than was sent: an error, nothing changes. */
	ck_assert(!stream_mgmt_ack(sm, 4, &error));
	ck_assert(g_error_matches(error, STREAM_MGMT_ERROR,
				  STREAM_MGMT_ERROR_BAD_ACK));
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm), 1);
	ck_assert(stream_mgmt_ack(sm, 3, NULL));
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm), 0);
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), 0);

	/* A new <enable/> starts from zero. */
	push(sm, "<presence/>");
	stream_mgmt_start(sm);
	ck_assert_uint_eq(stream_mgmt_get_inbound(sm), 0);
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm), 0);
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), 0);
	ck_assert(!stream_mgmt_ack(sm, 1, NULL));
}
END_TEST

/* Late and repeated acks, and parsing h (decimal, 0..2^32-1, §4). */
START_TEST(test_wrap)
{
	g_autoptr(StreamMgmt) sm = stream_mgmt_new();

	stream_mgmt_start(sm);
	for (int i = 0; i < 3; i++)
		push(sm, "<presence/>");
	ck_assert(stream_mgmt_ack(sm, 3, NULL));
	/* Two batches, acked in steps. */
	for (int i = 0; i < 4; i++)
		push(sm, "<iq/>");
	ck_assert(stream_mgmt_ack(sm, 5, NULL));
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm), 2);
	/* An h that would go backwards by a lot is a late ack, not news. */
	ck_assert(stream_mgmt_ack(sm, 0, NULL));
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm), 2);
	ck_assert(stream_mgmt_ack(sm, 7, NULL));
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm), 0);

	/* h parsing and a fresh counter. */
	{
		g_autoptr(StreamMgmt) in = stream_mgmt_new();
		uint32_t h = 0;

		ck_assert(stream_mgmt_parse_h("4294967295", &h));
		ck_assert_uint_eq(h, UINT32_MAX);
		ck_assert(!stream_mgmt_parse_h("4294967296", &h));
		ck_assert(!stream_mgmt_parse_h("-1", &h));
		ck_assert(!stream_mgmt_parse_h("+1", &h));
		ck_assert(!stream_mgmt_parse_h("", &h));
		ck_assert(!stream_mgmt_parse_h(NULL, &h));
		ck_assert(!stream_mgmt_parse_h("12x", &h));
		ck_assert(stream_mgmt_parse_h("0", &h));
		ck_assert_uint_eq(h, 0);
		stream_mgmt_start(in);
		ck_assert_uint_eq(stream_mgmt_get_inbound(in), 0);
	}
}
END_TEST

START_TEST(test_bound)
{
	g_autoptr(StreamMgmt) sm = stream_mgmt_new();
	g_autofree char *big = g_strnfill(STREAM_MGMT_MAX_QUEUE_BYTES / 2, 'x');

	stream_mgmt_start(sm);
	stream_mgmt_set_enabled(sm, "abc", true, 300);
	ck_assert(stream_mgmt_can_resume(sm));
	for (unsigned i = 0; i < STREAM_MGMT_MAX_QUEUE; i++)
		push(sm, "<presence/>");
	ck_assert(stream_mgmt_can_resume(sm));
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), STREAM_MGMT_MAX_QUEUE);
	push(sm, "<presence/>");
	/* Past the bound the oldest copy goes, and with it resumption. */
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), STREAM_MGMT_MAX_QUEUE);
	ck_assert_uint_eq(stream_mgmt_get_n_unacked(sm),
			  STREAM_MGMT_MAX_QUEUE + 1);
	ck_assert(!stream_mgmt_can_resume(sm));
	/* Acks still work on what is held. */
	ck_assert(stream_mgmt_ack(sm, STREAM_MGMT_MAX_QUEUE, NULL));
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), 1);

	/* Bytes are bounded too. */
	stream_mgmt_start(sm);
	stream_mgmt_set_enabled(sm, "abc", true, 0);
	push(sm, big);
	push(sm, big);
	ck_assert(stream_mgmt_can_resume(sm));
	push(sm, "<presence/>");
	ck_assert(!stream_mgmt_can_resume(sm));
	ck_assert_uint_eq(stream_mgmt_get_n_queued(sm), 2);
}
END_TEST

START_TEST(test_resume_id)
{
	g_autoptr(StreamMgmt) sm = stream_mgmt_new();
	g_autofree char *long_id =
		g_strnfill(STREAM_MGMT_MAX_ID_BYTES + 1, 'a');

	stream_mgmt_start(sm);
	ck_assert(!stream_mgmt_can_resume(sm));
	stream_mgmt_set_enabled(sm, "id-1", false, 0);
	ck_assert(!stream_mgmt_can_resume(sm));
	stream_mgmt_set_enabled(sm, NULL, true, 0);
	ck_assert(!stream_mgmt_can_resume(sm));
	stream_mgmt_set_enabled(sm, long_id, true, 0);
	ck_assert(!stream_mgmt_can_resume(sm));
	stream_mgmt_set_enabled(sm, "id-1", true, 600);
	ck_assert(stream_mgmt_can_resume(sm));
	ck_assert_str_eq(stream_mgmt_get_resume_id(sm), "id-1");
	ck_assert_uint_eq(stream_mgmt_get_max_seconds(sm), 600);
	stream_mgmt_set_jid(sm, "alice@example.org/x");
	ck_assert_str_eq(stream_mgmt_get_jid(sm), "alice@example.org/x");
	stream_mgmt_forget_resumption(sm);
	ck_assert(!stream_mgmt_can_resume(sm));
	ck_assert_ptr_null(stream_mgmt_get_resume_id(sm));
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"counts-and-queue", test_counts_and_queue},
		{"wrap", test_wrap},
		{"bound", test_bound},
		{"resume-id", test_resume_id},
	};

	return check_suite_run("stream-mgmt", cases, G_N_ELEMENTS(cases), 30);
}
