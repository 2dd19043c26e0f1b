/* SPDX-License-Identifier: MIT */
/*
 * Blocking (XEP-0191) once online: whether the server offers it (disco#info
 * of our bare JID, else of our domain: the contract allows either), the
 * block list read at login and kept current from the server's pushes
 * (ours or another client's), the contacts it blocks taken offline in the
 * table, and our block/unblock requests. Parsing and the list itself are
 * blocking.c's.
 */
#include "config.h"

#include <string.h>

#include "core/xmpp-session-internal.h"

/* What our own requests may keep waiting: the user asks one at a time. */
#define MAX_BLOCK_REQUESTS 64u

void xmpp_session_blocking_init(XmppSession *s)
{
	s->own_blocked = blocking_list_new();
	s->blocked = s->own_blocked;
	s->block_requests =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void xmpp_session_blocking_clear(XmppSession *s)
{
	g_clear_pointer(&s->own_blocked, blocking_list_free);
	g_clear_pointer(&s->block_requests, g_hash_table_unref);
	s->blocked = NULL;
}

void xmpp_session_set_block_list(XmppSession *s, BlockList *list)
{
	g_return_if_fail(s != NULL);
	g_return_if_fail(list != NULL);

	s->blocked = list;
	g_clear_pointer(&s->own_blocked, blocking_list_free);
}

const BlockList *xmpp_session_get_block_list(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	return s->blocked;
}

bool xmpp_session_has_blocking(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, false);

	return s->blocking &&
	       xmpp_session_get_state(s) == XMPP_SESSION_STATE_ONLINE;
}

static void report_blocked(XmppSession *s, bool changed)
{
	if (changed && s->callbacks.blocked_changed)
		s->callbacks.blocked_changed(s->user_data);
}

/* ---- blocked contacts go offline --------------------------------------- */

typedef struct {
	const BlockList *list;
	GPtrArray *gone; /* "bare" (all resources) or "bare/resource" */
} Sweep;

static void sweep_contact(const Contact *c, void *data)
{
	Sweep *sweep = data;
	const char *bare = contact_get_jid(c);
	size_t n = contact_get_n_resources(c);

	if (n == 0)
		return;
	if (blocking_list_blocks(sweep->list, bare)) {
		g_ptr_array_add(sweep->gone, g_strdup(bare));
		return;
	}
	/* Items may name one resource (XEP-0016 §2.1 matching). */
	for (size_t i = 0; i < n; i++) {
		const char *resource = NULL;
		g_autofree char *full = NULL;

		if (!contact_get_resource(c, i, &resource, NULL, NULL, NULL))
			continue;
		full = g_strdup_printf("%s/%s", bare, resource);
		if (blocking_list_blocks(sweep->list, full))
			g_ptr_array_add(sweep->gone, g_steal_pointer(&full));
	}
}

static void take_offline(XmppSession *s, const char *jid)
{
	g_autofree char *bare = g_strdup(jid);
	char *slash = strchr(bare, '/');
	const char *resource = slash ? slash + 1 : NULL;
	bool changed;

	if (slash)
		*slash = '\0';
	xmpp_session_caps_on_gone(s, bare, resource ? jid : NULL);
	changed = contacts_remove_resource(s->contacts, bare, resource, NULL);
	xmpp_session_report_change(s, bare, changed);
}

/* The contract: a blocked contact's show is offline (its resources are
 * gone; the server sends no unavailable for them). */
static void sweep_blocked(XmppSession *s)
{
	g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
	Sweep sweep = {.list = s->blocked, .gone = gone};

	if (blocking_list_get_n_items(s->blocked) == 0)
		return;
	contacts_foreach(s->contacts, sweep_contact, &sweep);
	for (guint i = 0; i < gone->len && !xmpp_session_is_over(s); i++)
		take_offline(s, g_ptr_array_index(gone, i));
}

bool xmpp_session_blocking_drops(const XmppSession *s, const char *from_full)
{
	/* The flood path: an empty list costs one comparison. */
	return blocking_list_get_n_items(s->blocked) > 0 &&
	       blocking_list_blocks(s->blocked, from_full);
}

/* ---- discovery and the list at login ------------------------------------ */

static void on_blocklist_result(void *data, const Stanza *iq)
{
	XmppSession *s = data;
	g_autoptr(GError) error = NULL;
	bool changed = false;

	/* Answered, refused or malformed: the discovery is over. */
	s->discovered = true;
	if (g_strcmp0(stanza_get_attr(iq, "type"), "result") != 0) {
		g_debug("xmpp session: block list refused: %s",
			xmpp_session_iq_error_condition(iq));
		return;
	}
	if (!blocking_list_replace(s->blocked, iq, &changed, &error)) {
		g_debug("xmpp session: block list: %s", error->message);
		return;
	}
	g_debug("xmpp session: %zu blocked",
		blocking_list_get_n_items(s->blocked));
	sweep_blocked(s);
	if (!xmpp_session_is_over(s))
		report_blocked(s, changed);
}

static void set_blocking(XmppSession *s, bool blocking)
{
	g_autoptr(Stanza) iq = NULL;
	bool had_items = blocking_list_get_n_items(s->blocked) > 0;

	g_debug("xmpp session: blocking %s",
		blocking ? "offered" : "not offered");
	s->blocking = blocking;
	if (!blocking) {
		s->discovered = true;
		/* The contract: no blocking, an empty Blocked. */
		blocking_list_clear(s->blocked);
		xmpp_session_caps_set_blocking(s, false);
		if (!xmpp_session_is_over(s))
			report_blocked(s, had_items);
		return;
	}
	xmpp_session_caps_set_blocking(s, true);
	if (xmpp_session_is_over(s))
		return;
	/* XEP-0191 §3.2: the list, to our account. */
	iq = xmpp_session_new_iq("get");
	stanza_add_child(iq, blocking_build_request());
	(void)xmpp_stream_send_iq(s->stream, iq, on_blocklist_result, s);
}

void xmpp_session_blocking_resume(XmppSession *s, bool blocking)
{
	s->blocking = blocking;
	xmpp_session_caps_resume(s, blocking);
}

static void on_domain_disco_result(void *data, const Stanza *iq)
{
	XmppSession *s = data;
	const Stanza *query = NULL;

	if (g_strcmp0(stanza_get_attr(iq, "type"), "result") == 0)
		query = stanza_get_child(iq, "query", NS_DISCO_INFO);
	set_blocking(s, caps_disco_has_feature(query, NS_BLOCKING));
}

void xmpp_session_blocking_on_account_disco(XmppSession *s, const Stanza *query)
{
	g_autoptr(Stanza) iq = NULL;

	if (caps_disco_has_feature(query, NS_BLOCKING)) {
		set_blocking(s, true);
		return;
	}
	/* Prosody and ejabberd list it on the domain (XEP-0191 §2). */
	iq = xmpp_session_new_iq("get");
	stanza_set_attr(iq, "to", xmpp_stream_get_domain(s->stream));
	stanza_add_child_new(iq, "query", NS_DISCO_INFO);
	(void)xmpp_stream_send_iq(s->stream, iq, on_domain_disco_result, s);
}

/* ---- pushes and our requests -------------------------------------------- */

/* XEP-0191 §3.3, §3.4: from our account only, answered, then applied. */
static void on_push(XmppSession *s, const Stanza *iq)
{
	g_auto(BlockingPush) push = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_free);
	bool changed;

	if (!blocking_parse_push(iq, xmpp_stream_get_bare_jid(s->stream), &push,
				 &error)) {
		g_debug("xmpp session: ignoring block push: %s",
			error->message);
		if (error->code != BLOCKING_ERROR_UNTRUSTED)
			xmpp_session_send_iq_error(s, iq, "modify",
						   "bad-request");
		return;
	}
	xmpp_session_send_iq_result(s, iq, NULL);
	changed = blocking_list_apply_push(s->blocked, &push, added, NULL);
	if (added->len > 0)
		sweep_blocked(s);
	if (!xmpp_session_is_over(s))
		report_blocked(s, changed);
}

bool xmpp_session_blocking_on_request(XmppSession *s, const Stanza *iq,
				      bool is_get, const Stanza *payload)
{
	if (is_get || !payload ||
	    g_strcmp0(stanza_get_ns(payload), NS_BLOCKING) != 0)
		return false;
	if (strcmp(stanza_get_name(payload), "block") != 0 &&
	    strcmp(stanza_get_name(payload), "unblock") != 0)
		return false;
	on_push(s, iq);
	return true;
}

/* Our request succeeded: the list changes as the push would change it
 * (applying both is harmless: a push repeats what is already there). */
static void apply_own_request(XmppSession *s, const char *request)
{
	g_auto(BlockingPush) push = {0};
	g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_free);
	bool changed;

	push.kind =
		request[0] == '+' ? BLOCKING_PUSH_BLOCK : BLOCKING_PUSH_UNBLOCK;
	push.jids = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(push.jids, g_strdup(request + 1));
	changed = blocking_list_apply_push(s->blocked, &push, added, NULL);
	if (added->len > 0)
		sweep_blocked(s);
	if (!xmpp_session_is_over(s))
		report_blocked(s, changed);
}

static void on_block_result(void *data, const Stanza *iq)
{
	XmppSession *s = data;
	g_autofree char *key = NULL;
	g_autofree char *request = NULL;
	const char *id = stanza_get_attr(iq, "id");

	if (id)
		(void)g_hash_table_steal_extended(s->block_requests, id,
						  (gpointer *)&key,
						  (gpointer *)&request);
	if (g_strcmp0(stanza_get_attr(iq, "type"), "result") != 0) {
		g_debug("xmpp session: block request refused: %s",
			xmpp_session_iq_error_condition(iq));
		return;
	}
	if (request)
		apply_own_request(s, request);
}

bool xmpp_session_block(XmppSession *s, const char *jid, bool block)
{
	g_autoptr(Stanza) iq = NULL;
	g_autoptr(GError) error = NULL;
	const char *const jids[] = {jid};
	Stanza *payload, *item;

	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(jid != NULL, false);

	if (!xmpp_session_has_blocking(s))
		return false;
	payload = block ? blocking_build_block(jids, 1, &error)
			: blocking_build_unblock(jids, 1, &error);
	if (!payload) {
		g_debug("xmpp session: not blocking: %s", error->message);
		return false;
	}
	if (g_hash_table_size(s->block_requests) >= MAX_BLOCK_REQUESTS)
		return false;
	iq = xmpp_session_new_iq("set");
	stanza_add_child(iq, payload);
	if (!xmpp_stream_send_iq(s->stream, iq, on_block_result, s))
		return false;
	item = stanza_get_first_child(payload);
	g_hash_table_replace(
		s->block_requests, g_strdup(stanza_get_attr(iq, "id")),
		g_strconcat(block ? "+" : "-",
			    item ? stanza_get_attr(item, "jid") : jid, NULL));
	return true;
}
