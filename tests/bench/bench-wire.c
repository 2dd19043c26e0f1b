/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's plaintext (bench-wire.h) and the model of what the
 * contact table must hold after it, from the same entry functions so the
 * two cannot drift.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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

/*
 * Resource j of contact i in the flood. Every fourth contact has all its
 * resources at the same show and priority, so that only the order of
 * arrival decides which status it shows (CONTRACT.md, additions v3).
 */
static void flood_entry(unsigned i, unsigned j, const char **ret_show,
			char *status, size_t len, int *ret_priority)
{
	bool tie = i % 4 == 3;

	*ret_show = shows[(i + (tie ? 0 : j)) % G_N_ELEMENTS(shows)];
	*ret_priority = tie || j == 0 ? 5 : 1;
	g_snprintf(status, len,
		   "Working from the %s office on the quarterly plan, back "
		   "after lunch (%u/%u)",
		   j == 0 ? "Berlin" : "Lisbon", i, j);
}

/* Update k: contact k % n's first resource, priority 5. */
static void update_entry(unsigned k, const char **ret_show, char *status,
			 size_t len)
{
	*ret_show = shows[(k + 1) % G_N_ELEMENTS(shows)];
	g_snprintf(status, len, "update %u", k);
}

GString *bench_wire_flood(unsigned n, unsigned r)
{
	GString *out = g_string_sized_new((gsize)n * r * 520 + 64);
	char status[160];
	const char *show;
	int prio;

	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < r; j++) {
			flood_entry(i, j, &show, status, sizeof(status), &prio);
			append_presence(out, i, j, show, status, prio);
		}
	return out;
}

GString *bench_wire_updates(unsigned n, unsigned m)
{
	GString *out = g_string_sized_new((gsize)m * 520 + 64);
	char status[64];
	const char *show;

	for (unsigned k = 0; k < m; k++) {
		update_entry(k, &show, status, sizeof(status));
		append_presence(out, k % n, 0, show, status, 5);
	}
	return out;
}

/* chat > available > dnd > away > xa (CONTRACT.md "Aggregation"). */
static int show_rank(const char *show)
{
	static const char *const order[] = {"xa", "away", "dnd"};

	if (show == NULL)
		return 4;
	if (strcmp(show, "chat") == 0)
		return 5;
	for (int i = 0; i < (int)G_N_ELEMENTS(order); i++)
		if (strcmp(show, order[i]) == 0)
			return i + 1;
	return 0;
}

typedef struct {
	int rank, priority;
	uint64_t seq; /* arrival */
	char status[160];
	const char *show;
} ModelResource;

static bool beats(const ModelResource *a, const ModelResource *b)
{
	if (a->rank != b->rank)
		return a->rank > b->rank;
	if (a->priority != b->priority)
		return a->priority > b->priority;
	return a->seq > b->seq;
}

GPtrArray *bench_wire_expected(unsigned n, unsigned r, unsigned m)
{
	g_autofree ModelResource *model = g_new0(ModelResource, (gsize)n * r);
	GPtrArray *out = g_ptr_array_new_full(n, g_free);
	uint64_t seq = 0;

	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < r; j++) {
			ModelResource *e = &model[(gsize)i * r + j];

			flood_entry(i, j, &e->show, e->status,
				    sizeof(e->status), &e->priority);
			e->rank = show_rank(e->show);
			e->seq = ++seq;
		}
	for (unsigned k = 0; k < m; k++) {
		ModelResource *e = &model[(gsize)(k % n) * r];

		update_entry(k, &e->show, e->status, sizeof(e->status));
		e->rank = show_rank(e->show);
		e->priority = 5;
		e->seq = ++seq;
	}
	for (unsigned i = 0; i < n; i++) {
		const ModelResource *best = &model[(gsize)i * r];

		for (unsigned j = 1; j < r; j++)
			if (beats(&model[(gsize)i * r + j], best))
				best = &model[(gsize)i * r + j];
		g_ptr_array_add(out, g_strdup_printf("%s\t%s",
						     best->show ? best->show
								: "available",
						     best->status));
	}
	return out;
}

/* Contact 0's first resource, chat, priority 10, status "<tag>-<index>". */
static GString *contact0_marker(const char *tag, unsigned index)
{
	GString *out = g_string_sized_new(600);
	char status[32];

	g_snprintf(status, sizeof(status), "%s-%u", tag, index);
	append_presence(out, 0, 0, "chat", status, 10);
	return out;
}

GString *bench_wire_probe(unsigned index)
{
	return contact0_marker("lat", index);
}

GString *bench_wire_sentinel(unsigned index)
{
	return contact0_marker("end", index);
}

void bench_wire_append_ping(GString *out, const char *tag)
{
	g_string_append_printf(out,
			       "<iq from='" BENCH_DOMAIN "' to='" BENCH_FULL_JID
			       "' id='bping-%s' type='get'>"
			       "<ping xmlns='urn:xmpp:ping'/></iq>",
			       tag);
}
