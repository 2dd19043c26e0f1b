/* SPDX-License-Identifier: MIT */
/*
 * A minimal presence tracker on libstrophe, the peer presenced is measured
 * against: it logs in (STARTTLS, SASL, bind), asks for the roster, keeps
 * every contact's resources (show, status, priority) in a hash table,
 * sends initial presence and answers XEP-0199 pings.
 *
 * Usage: strophe-tracker HOST PORT JID PASSWORD CA_FILE
 */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strophe.h>

typedef struct {
	char *show;
	char *status;
	int priority;
} Resource;

typedef struct {
	xmpp_ctx_t *ctx;
	GHashTable *contacts; /* bare → GHashTable resource → Resource */
	unsigned long n_presence;
} Tracker;

static void resource_free(gpointer p)
{
	Resource *r = p;

	g_free(r->show);
	g_free(r->status);
	g_free(r);
}

static GHashTable *contact_get(Tracker *t, const char *bare)
{
	GHashTable *res = g_hash_table_lookup(t->contacts, bare);

	if (res == NULL) {
		res = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    resource_free);
		g_hash_table_insert(t->contacts, g_strdup(bare), res);
	}
	return res;
}

static char *child_text(xmpp_stanza_t *st, const char *name)
{
	xmpp_stanza_t *c = xmpp_stanza_get_child_by_name(st, name);

	return c != NULL ? xmpp_stanza_get_text(c) : NULL;
}

static int on_presence(xmpp_conn_t *conn, xmpp_stanza_t *st, void *data)
{
	Tracker *t = data;
	const char *from = xmpp_stanza_get_from(st);
	const char *type = xmpp_stanza_get_type(st);
	const char *slash;
	g_autofree char *bare = NULL;
	GHashTable *res;

	t->n_presence++;
	if (from == NULL)
		return 1;
	slash = strchr(from, '/');
	bare = slash ? g_strndup(from, (gsize)(slash - from)) : g_strdup(from);
	res = contact_get(t, bare);
	if (type != NULL && strcmp(type, "unavailable") == 0) {
		g_hash_table_remove(res, slash ? slash + 1 : "");
		return 1;
	}
	if (type != NULL)
		return 1;
	Resource *r = g_new0(Resource, 1);
	char *s = child_text(st, "show");
	char *status = child_text(st, "status");
	char *prio = child_text(st, "priority");
	r->show = g_strdup(s ? s : "available");
	r->status = g_strdup(status ? status : "");
	r->priority = prio ? atoi(prio) : 0;
	if (s)
		xmpp_free(t->ctx, s);
	if (status)
		xmpp_free(t->ctx, status);
	if (prio)
		xmpp_free(t->ctx, prio);
	g_hash_table_replace(res, g_strdup(slash ? slash + 1 : ""), r);
	return 1;
}

static int on_ping(xmpp_conn_t *conn, xmpp_stanza_t *st, void *data)
{
	Tracker *t = data;
	xmpp_stanza_t *reply = xmpp_stanza_reply(st);

	xmpp_stanza_set_type(reply, "result");
	xmpp_send(conn, reply);
	xmpp_stanza_release(reply);
	(void)t;
	return 1;
}

static int on_roster(xmpp_conn_t *conn, xmpp_stanza_t *st, void *data)
{
	Tracker *t = data;
	xmpp_stanza_t *q = xmpp_stanza_get_child_by_name(st, "query");
	xmpp_stanza_t *pres;

	for (xmpp_stanza_t *i = q ? xmpp_stanza_get_children(q) : NULL;
	     i != NULL; i = xmpp_stanza_get_next(i)) {
		const char *jid = xmpp_stanza_get_attribute(i, "jid");
		if (jid != NULL)
			(void)contact_get(t, jid);
	}
	/* Initial presence after the roster (RFC 6121 §4.2). */
	pres = xmpp_presence_new(t->ctx);
	xmpp_send(conn, pres);
	xmpp_stanza_release(pres);
	return 0;
}

static void on_conn(xmpp_conn_t *conn, xmpp_conn_event_t status, int error,
		    xmpp_stream_error_t *stream_error, void *data)
{
	Tracker *t = data;

	if (status == XMPP_CONN_CONNECT) {
		xmpp_stanza_t *iq = xmpp_iq_new(t->ctx, "get", "roster1");
		xmpp_stanza_t *q = xmpp_stanza_new(t->ctx);

		xmpp_stanza_set_name(q, "query");
		xmpp_stanza_set_ns(q, "jabber:iq:roster");
		xmpp_stanza_add_child(iq, q);
		xmpp_stanza_release(q);
		xmpp_id_handler_add(conn, on_roster, "roster1", t);
		xmpp_handler_add(conn, on_presence, NULL, "presence", NULL, t);
		xmpp_handler_add(conn, on_ping, "urn:xmpp:ping", "iq", "get",
				 t);
		xmpp_send(conn, iq);
		xmpp_stanza_release(iq);
	} else {
		fprintf(stderr,
			"strophe-tracker: disconnected (%d), %u "
			"contacts, %lu presence\n",
			error, g_hash_table_size(t->contacts), t->n_presence);
		xmpp_stop(t->ctx);
	}
}

int main(int argc, char **argv)
{
	Tracker t = {0};
	xmpp_conn_t *conn;

	if (argc != 6) {
		fprintf(stderr,
			"usage: strophe-tracker HOST PORT JID PASSWORD CA\n");
		return 2;
	}
	xmpp_initialize();
	t.contacts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_hash_table_unref);
	t.ctx = xmpp_ctx_new(NULL, NULL);
	/*
	 * libstrophe writes queued stanzas (our ping answers) only at the top
	 * of its loop and otherwise sleeps in select() for ctx->timeout
	 * (default 1 s), also while OpenSSL holds decrypted bytes: 1 ms keeps
	 * it from idling on our clock. It costs wake-ups, not throughput.
	 */
	xmpp_ctx_set_timeout(t.ctx, 1);
	conn = xmpp_conn_new(t.ctx);
	xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_MANDATORY_TLS);
	xmpp_conn_set_cafile(conn, argv[5]);
	xmpp_conn_set_jid(conn, argv[3]);
	xmpp_conn_set_pass(conn, argv[4]);
	if (xmpp_connect_client(conn, argv[1], (unsigned short)atoi(argv[2]),
				on_conn, &t) != XMPP_EOK) {
		fprintf(stderr, "strophe-tracker: cannot connect\n");
		return 1;
	}
	xmpp_run(t.ctx);
	xmpp_conn_release(conn);
	xmpp_ctx_free(t.ctx);
	xmpp_shutdown();
	g_hash_table_unref(t.contacts);
	return 0;
}
