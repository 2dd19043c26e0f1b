/* SPDX-License-Identifier: MIT */
/*
 * presenced's core alone, without the daemon and D-Bus: XmppSession and
 * the ContactTable behind a plain poll() loop. The benchmark runs it next
 * to presenced, so that the cost of everything above the core (the main
 * loop, signals on the bus) is measured, not guessed.
 *
 * Usage: core-tracker HOST PORT JID PASSWORD CA_FILE
 */
#include "config.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/contacts.h"
#include "core/xmpp-session.h"

typedef struct {
	XmppSession *session;
	bool closed;
	unsigned long changes;
} Tracker;

static void on_online(void *data, const char *full_jid)
{
	Tracker *t = data;
	PresenceSpec spec = {.show = PRESENCE_SHOW_AVAILABLE, .priority = 1};

	(void)xmpp_session_send_presence(t->session, &spec);
}

static void on_changed(void *data, const char *bare)
{
	Tracker *t = data;

	t->changes++;
}

static void on_request(void *data, const char *bare, const char *message)
{
}

static void on_closed(void *data, XmppSessionEnd reason, const GError *error)
{
	Tracker *t = data;

	fprintf(stderr, "core-tracker: closed: %s (%lu changes)\n",
		error ? error->message : "", t->changes);
	t->closed = true;
}

int main(int argc, char **argv)
{
	Tracker t = {0};
	g_autoptr(ContactTable) contacts = contacts_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) out = g_byte_array_new();
	XmppSessionConfig cfg = {0};
	XmppSessionCallbacks cb = {
		.online = on_online,
		.contact_changed = on_changed,
		.subscription_request = on_request,
		.closed = on_closed,
	};
	struct sockaddr_in sa = {0};
	char *buf = g_malloc(65536);
	int fd, one = 1;
	size_t off = 0, fed = 0;
	bool trim = g_getenv("BENCH_TRIM") != NULL;

	if (argc != 6) {
		fprintf(stderr,
			"usage: core-tracker HOST PORT JID PASSWORD CA\n");
		return 2;
	}
	cfg.jid = argv[3];
	cfg.password = argv[4];
	cfg.resource = "bench";
	cfg.ca_file = argv[5];
	t.session = xmpp_session_new(&cfg, contacts, &cb, &t, &error);
	if (t.session == NULL) {
		fprintf(stderr, "core-tracker: %s\n", error->message);
		return 1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	(void)inet_pton(AF_INET, argv[1], &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("core-tracker: connect");
		return 1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	xmpp_session_start(t.session, g_get_monotonic_time());
	while (!t.closed) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t now = g_get_monotonic_time();
		int64_t deadline = xmpp_session_get_deadline(t.session);
		int timeout = -1;

		xmpp_session_take_output(t.session, out);
		if (out->len > off)
			p.events |= POLLOUT;
		if (deadline != INT64_MAX)
			timeout =
				deadline <= now
					? 0
					: (int)MIN((deadline - now) / 1000 + 1,
						   (int64_t)G_MAXINT);
		/*
		 * BENCH_TRIM=1: once a burst is over (nothing to read now),
		 * give the heap's free pages back; the experiment behind the
		 * RSS-per-contact note in BENCHMARKS.md.
		 */
		if (trim && fed > (1u << 20) && poll(&p, 1, 0) == 0) {
			(void)malloc_trim(0);
			fed = 0;
		}
		if (poll(&p, 1, timeout) < 0 && errno != EINTR)
			break;
		now = g_get_monotonic_time();
		if (p.revents & POLLOUT) {
			ssize_t w = write(fd, out->data + off, out->len - off);
			if (w > 0)
				off += (size_t)w;
			if (off == out->len) {
				g_byte_array_set_size(out, 0);
				off = 0;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(fd, buf, 65536);
			if (r <= 0) {
				xmpp_session_eof(t.session, NULL);
				break;
			}
			xmpp_session_feed(t.session, buf, (size_t)r, now);
			fed += (size_t)r;
		}
		if (xmpp_session_get_deadline(t.session) <= now)
			xmpp_session_tick(t.session, now);
	}
	xmpp_session_free(t.session);
	close(fd);
	g_free(buf);
	return 0;
}
