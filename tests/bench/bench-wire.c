/* SPDX-License-Identifier: MIT */
#include "config.h"

#include "bench-wire.h"

static const char *const shows[] = {NULL, "away", "chat", "dnd", "xa"};
static const char *const resources[] = {"laptop", "phone", "tablet", "desktop"};

/* What a real client's presence looks like: caps (XEP-0115), an avatar
 * hash (XEP-0153), a delay (XEP-0203) from the server's offline storage. */
static void append_presence(GString *out, unsigned contact, unsigned res,
			    const char *show, const char *status, int priority)
{
	g_string_append_printf(
		out,
		"<presence from='contact%06u@" BENCH_DOMAIN "/%s-%u'"
		" to='" BENCH_FULL_JID "' xml:lang='en'>",
		contact, resources[res % G_N_ELEMENTS(resources)], res);
	if (show != NULL)
		g_string_append_printf(out, "<show>%s</show>", show);
	g_string_append_printf(out,
			       "<status>%s</status><priority>%d</priority>",
			       status, priority);
	g_string_append(
		out,
		"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1'"
		" node='https://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>"
		"<x xmlns='vcard-temp:x:update'><photo>"
		"01b87fcd030b72895ff8e88db57ec525450f000d</photo></x>");
	g_string_append_printf(
		out,
		"<delay xmlns='urn:xmpp:delay' from='" BENCH_DOMAIN
		"' stamp='2024-05-01T09:%02u:%02u.123Z'/>"
		"</presence>",
		contact % 60, res % 60);
}

GString *bench_wire_roster(const char *iq_id, unsigned n)
{
	GString *out = g_string_sized_new(100 + (gsize)n * 110);

	g_string_append_printf(out,
			       "<iq type='result' id='%s' to='" BENCH_FULL_JID
			       "'><query xmlns='jabber:iq:roster' ver='v1'>",
			       iq_id);
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(
			out,
			"<item jid='contact%06u@" BENCH_DOMAIN "'"
			" name='Contact Number %u' subscription='both'>"
			"<group>Team %u</group></item>",
			i, i, i % 50);
	g_string_append(out, "</query></iq>");
	return out;
}

GString *bench_wire_flood(unsigned n, unsigned r)
{
	GString *out = g_string_sized_new((gsize)n * r * 520 + 64);
	char status[160];

	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < r; j++) {
			g_snprintf(
				status, sizeof(status),
				"Working from the %s office on the quarterly "
				"plan, back after lunch (%u/%u)",
				j == 0 ? "Berlin" : "Lisbon", i, j);
			append_presence(out, i, j,
					shows[(i + j) % G_N_ELEMENTS(shows)],
					status, j == 0 ? 5 : 1);
		}
	return out;
}

GString *bench_wire_updates(unsigned n, unsigned m)
{
	GString *out = g_string_sized_new((gsize)m * 520 + 64);
	char status[64];

	for (unsigned k = 0; k < m; k++) {
		g_snprintf(status, sizeof(status), "update %u", k);
		append_presence(out, k % n, 0,
				shows[(k + 1) % G_N_ELEMENTS(shows)], status,
				5);
	}
	return out;
}

GString *bench_wire_probe(unsigned index)
{
	GString *out = g_string_sized_new(600);
	char status[32];

	g_snprintf(status, sizeof(status), "lat-%u", index);
	append_presence(out, 0, 0, "chat", status, 10);
	return out;
}

void bench_wire_append_ping(GString *out, const char *tag)
{
	g_string_append_printf(out,
			       "<iq from='" BENCH_DOMAIN "' to='" BENCH_FULL_JID
			       "' id='bping-%s' type='get'>"
			       "<ping xmlns='urn:xmpp:ping'/></iq>",
			       tag);
}
