/* SPDX-License-Identifier: MIT */
/*
 * Memory and speed of the contact table: N roster contacts × 2 resources
 * with realistic string sizes (25-byte JIDs, 10-byte resources, 20-byte
 * statuses). Prints heap bytes per contact (mallinfo2 delta), RSS bytes per
 * contact (/proc/self/statm delta) and presence updates per second.
 *
 * Usage: bench-contacts [N]   (default 50000)
 */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/contacts.h"

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static size_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	(void)fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Exactly len bytes: prefix, then the number, padded with 'x'. */
static void make_string(char *buf, size_t len, const char *prefix, unsigned n,
			const char *suffix)
{
	int used = snprintf(buf, len + 1, "%s%u", prefix, n);
	size_t slen = strlen(suffix);

	for (size_t i = (size_t)used; i < len - slen; i++)
		buf[i] = 'x';
	memcpy(buf + len - slen, suffix, slen + 1);
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 50000;
	char jid[26], res[2][11], status[21];
	size_t heap0, rss0, heap1, rss1;
	ContactTable *table;
	gint64 t0, t1;
	unsigned updates;

	if (n == 0)
		n = 50000;
	/* Warm up GLib and the allocator before the baseline. */
	table = contacts_new();
	contacts_free(table);
	heap0 = heap_in_use();
	rss0 = rss_bytes();

	table = contacts_new();
	t0 = g_get_monotonic_time();
	for (unsigned i = 0; i < n; i++) {
		make_string(jid, 25, "u", i, "@example.org");
		(void)contacts_set_roster_item(table, jid, NULL,
					       ROSTER_SUBSCRIPTION_BOTH, false,
					       NULL, 0);
		for (unsigned r = 0; r < 2; r++) {
			make_string(res[r], 10, r == 0 ? "laptop" : "phone", i,
				    "");
			make_string(status, 20, "status ", i, "");
			(void)contacts_update_resource(
				table, jid, res[r],
				r == 0 ? PRESENCE_SHOW_AVAILABLE
				       : PRESENCE_SHOW_AWAY,
				status, r == 0 ? 5 : 0);
		}
	}
	t1 = g_get_monotonic_time();
	heap1 = heap_in_use();
	rss1 = rss_bytes();

	printf("contacts: %u (x2 resources)\n",
	       contacts_size(table) == n ? n : 0);
	printf("heap bytes per contact: %.1f\n", (double)(heap1 - heap0) / n);
	printf("RSS bytes per contact: %.1f\n",
	       (double)(rss1 > rss0 ? rss1 - rss0 : 0) / n);
	printf("insert: %.0f contacts/s\n",
	       n / ((double)(t1 - t0) / G_USEC_PER_SEC));

	/* Steady state: status and show changes on existing resources. */
	updates = n * 10;
	t0 = g_get_monotonic_time();
	for (unsigned u = 0; u < updates; u++) {
		unsigned i = (u * 2654435761u) % n;

		make_string(jid, 25, "u", i, "@example.org");
		make_string(res[0], 10, "laptop", i, "");
		make_string(status, 20, "status ", u, "");
		(void)contacts_update_resource(table, jid, res[0],
					       (u & 1) ? PRESENCE_SHOW_DND
						       : PRESENCE_SHOW_CHAT,
					       status, 5);
	}
	t1 = g_get_monotonic_time();
	printf("updates/s: %.0f\n",
	       updates / ((double)(t1 - t0) / G_USEC_PER_SEC));

	contacts_free(table);
	return 0;
}
