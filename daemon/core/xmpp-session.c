/* SPDX-License-Identifier: MIT */
/*
 * What runs once the link is up (RFC 6121): the roster download and
 * pushes, incoming presence into the ContactTable, answers to IQ get/set
 * (ping, roster push, service-unavailable), the nick over PEP, CSI,
 * subscriptions and the resynchronisation of the table after a new
 * session. The link itself (TLS, SASL, bind, XEP-0198, keepalive) is the
 * XmppStream underneath (xmpp-stream.c); this file only sees it through
 * its callbacks and xmpp-stream.h.
 */
#include "config.h"

#include <string.h>

#include "core/roster.h"
#include "core/xmpp-session-internal.h"
#include "core/xmpp-session-private.h"

#define NS_ROSTER "jabber:iq:roster"
#define NS_CSI "urn:xmpp:csi:0"
#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_NICK "http://jabber.org/protocol/nick"

#define DEFAULT_RESYNC_GRACE ((int64_t)10 * G_USEC_PER_SEC)

static XmppSessionState state_of(const XmppSession *s)
{
	return xmpp_stream_get_state(s->stream);
}

static bool is_ended(const XmppSession *s)
{
	return xmpp_stream_is_ended(s->stream);
}

void xmpp_session_report_change(XmppSession *s, const char *bare, bool changed)
{
	if (changed && s->callbacks.contact_changed)
		s->callbacks.contact_changed(s->user_data, bare);
}

static void report_item_change(XmppSession *s, const char *bare, bool changed)
{
	if (changed && s->callbacks.roster_item_changed)
		s->callbacks.roster_item_changed(s->user_data, bare);
}

bool xmpp_session_is_over(const XmppSession *s)
{
	return is_ended(s);
}

Stanza *xmpp_session_new_iq(const char *type)
{
	Stanza *iq = stanza_new("iq", NS_CLIENT);

	stanza_set_attr(iq, "type", type);
	return iq;
}

const char *xmpp_session_iq_error_condition(const Stanza *iq)
{
	Stanza *error = stanza_get_child(iq, "error", NULL);

	for (Stanza *c = error ? stanza_get_first_child(error) : NULL; c;
	     c = stanza_get_next_sibling(c)) {
		if (g_strcmp0(stanza_get_ns(c), NS_STANZAS) == 0 &&
		    strcmp(stanza_get_name(c), "text") != 0)
			return stanza_get_name(c);
	}
	return "undefined-condition";
}

/* ---- nick over PEP (XEP-0163, XEP-0172) ------------------------------- */

static void on_publish_result(void *data, const Stanza *iq)
{
	(void)data;
	/* Not fatal: the nick still goes with subscription requests and
	 * directed presence. */
	if (g_strcmp0(stanza_get_attr(iq, "type"), "result") != 0)
		g_debug("xmpp session: nick publish failed: %s",
			xmpp_session_iq_error_condition(iq));
}

/* XEP-0172 §4.2 over XEP-0163 §4: one item on the nick node, published
 * with the node's default access model (presence subscribers). An empty
 * <nick/> says the user has none any more. */
static void publish_nick(XmppSession *s)
{
	g_autoptr(Stanza) iq = NULL;
	Stanza *publish, *item, *nick;

	if (state_of(s) != XMPP_SESSION_STATE_ONLINE || !s->pep)
		return;
	if (!s->nick && !s->nick_published)
		return; /* nothing set, nothing to take back */
	iq = xmpp_session_new_iq("set");
	publish = stanza_add_child_new(
		stanza_add_child_new(iq, "pubsub", NS_PUBSUB), "publish", NULL);
	stanza_set_attr(publish, "node", NS_NICK);
	item = stanza_add_child_new(publish, "item", NULL);
	nick = stanza_add_child_new(item, "nick", NS_NICK);
	if (s->nick)
		stanza_set_text(nick, s->nick);
	s->nick_published = true;
	g_free(s->published_nick);
	s->published_nick = g_strdup(s->nick);
	(void)xmpp_stream_send_iq(s->stream, iq, on_publish_result, s);
}

static void on_pep_disco_result(void *data, const Stanza *iq)
{
	XmppSession *s = data;
	const Stanza *query;

	if (g_strcmp0(stanza_get_attr(iq, "type"), "result") != 0) {
		g_debug("xmpp session: disco#info on our account failed: %s",
			xmpp_session_iq_error_condition(iq));
		/* Blocking may still be on the domain (CONTRACT.md). */
		xmpp_session_blocking_on_account_disco(s, NULL);
		return;
	}
	query = stanza_get_child(iq, "query", NS_DISCO_INFO);
	s->pep = caps_disco_has_identity(query, "pubsub", "pep");
	g_debug("xmpp session: PEP %s", s->pep ? "available" : "not offered");
	xmpp_session_blocking_on_account_disco(s, query);
	if (!is_ended(s))
		publish_nick(s);
}

/* ONLINE: does our account have PEP (XEP-0163 §6), blocking (XEP-0191
 * §2)? */
static void begin_pep_discovery(XmppSession *s)
{
	g_autoptr(Stanza) iq = xmpp_session_new_iq("get");

	stanza_set_attr(iq, "to", xmpp_stream_get_bare_jid(s->stream));
	stanza_add_child_new(iq, "query", NS_DISCO_INFO);
	(void)xmpp_stream_send_iq(s->stream, iq, on_pep_disco_result, s);
}

/* ---- roster (RFC 6121 §2) ---------------------------------------------- */

/* The resync grace period starts now (settle_resync() ends it). */
static void start_settle(XmppSession *s)
{
	int64_t now = xmpp_stream_get_now(s->stream);

	s->settle_at = now > INT64_MAX - s->resync_grace
			       ? INT64_MAX
			       : now + s->resync_grace;
}

/* ROSTER → ONLINE: the owner sends the initial presence from online(). */
static void go_online(XmppSession *s)
{
	xmpp_stream_set_online(s->stream);
	if (s->resync)
		start_settle(s);
	if (s->callbacks.online)
		s->callbacks.online(s->user_data,
				    xmpp_stream_get_full_jid(s->stream));
	if (state_of(s) == XMPP_SESSION_STATE_ONLINE)
		begin_pep_discovery(s);
}

/*
 * The answer to our roster get (RFC 6121 §2.1.4, §2.6.3), applied by
 * roster.c: a full roster replaces the table's items, an empty result
 * keeps them (the changes follow as pushes), an error is not fatal
 * (presence works without a roster).
 */
static void on_roster_result(void *data, const Stanza *iq)
{
	XmppSession *s = data;
	g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
	const char *ver;
	RosterResultKind kind;

	if (state_of(s) != XMPP_SESSION_STATE_ROSTER)
		return;
	kind = roster_apply_result_full(s->contacts, iq, changed, items);
	ver = contacts_get_roster_ver(s->contacts);
	g_debug("xmpp session: roster %s (%zu items, version %s)",
		kind == ROSTER_RESULT_FULL	  ? "received"
		: kind == ROSTER_RESULT_UNCHANGED ? "unchanged"
						  : "refused",
		contacts_get_n_roster_items(s->contacts), ver ? ver : "none");
	for (guint i = 0; i < items->len && !is_ended(s); i++)
		report_item_change(s, g_ptr_array_index(items, i), true);
	for (guint i = 0; i < changed->len && !is_ended(s); i++)
		xmpp_session_report_change(s, g_ptr_array_index(changed, i),
					   true);
	if (!is_ended(s))
		go_online(s);
}

/* Bound (RFC 6121 §2.1.3): the roster first, then online. */
static void on_bound(void *user_data, const char *full_jid)
{
	XmppSession *s = user_data;
	g_autoptr(Stanza) iq = xmpp_session_new_iq("get");
	Stanza *query;
	const char *ver = roster_request_ver(
		xmpp_stream_offers(s->stream, XMPP_STREAM_FEATURE_ROSTER_VER),
		contacts_get_roster_ver(s->contacts));

	(void)full_jid;
	/*
	 * A new session after a drop: the server will send every contact's
	 * presence again; what the table holds from before stays until then
	 * so that nothing flaps (contacts_mark_stale).
	 */
	s->resync = contacts_mark_stale(s->contacts) > 0;
	query = stanza_add_child_new(iq, "query", NS_ROSTER);
	/* §2.6.2: the version our table holds, "" the first time. */
	if (ver)
		stanza_set_attr(query, "ver", ver);
	(void)xmpp_stream_send_iq(s->stream, iq, on_roster_result, s);
}

/* ---- IQ get/set ------------------------------------------------------- */

void xmpp_session_send_iq_reply(XmppSession *s, const Stanza *request,
				Stanza *reply)
{
	const char *from = stanza_get_attr(request, "from");

	stanza_set_attr(reply, "id", stanza_get_attr(request, "id"));
	if (from)
		stanza_set_attr(reply, "to", from);
	xmpp_stream_send(s->stream, reply);
}

void xmpp_session_send_iq_result(XmppSession *s, const Stanza *request,
				 Stanza *payload)
{
	g_autoptr(Stanza) reply = stanza_new("iq", NS_CLIENT);

	stanza_set_attr(reply, "type", "result");
	if (payload)
		stanza_add_child(reply, payload);
	xmpp_session_send_iq_reply(s, request, reply);
}

void xmpp_session_send_iq_error(XmppSession *s, const Stanza *request,
				const char *error_type, const char *condition)
{
	g_autoptr(Stanza) reply = stanza_new("iq", NS_CLIENT);
	Stanza *error;

	stanza_set_attr(reply, "type", "error");
	error = stanza_add_child_new(reply, "error", NULL);
	stanza_set_attr(error, "type", error_type);
	stanza_add_child_new(error, condition, NS_STANZAS);
	xmpp_session_send_iq_reply(s, request, reply);
}

/* RFC 6120 §8.4: a get/set nobody here understands. */
static void send_service_unavailable(XmppSession *s, const Stanza *request)
{
	xmpp_session_send_iq_error(s, request, "cancel", "service-unavailable");
}

/*
 * Roster push (RFC 6121 §2.1.6): only from our account or our server, else
 * it is a spoofing attempt, ignored without an answer (an error would tell
 * the sender we are online). Valid pushes update the table and are
 * answered with a result; with versioning they are the deltas since the
 * version we sent (§2.6.3).
 */
static void on_roster_push(XmppSession *s, const Stanza *iq)
{
	g_auto(RosterItem) item = {0};
	g_autofree char *ver = NULL;
	g_autoptr(GError) error = NULL;
	bool changed, item_changed;

	if (!roster_parse_push(iq, xmpp_stream_get_bare_jid(s->stream), &item,
			       &ver, &error)) {
		g_debug("xmpp session: ignoring roster push: %s",
			error->message);
		if (error->code == ROSTER_ERROR_UNTRUSTED)
			return;
		xmpp_session_send_iq_error(s, iq, "modify", "bad-request");
		return;
	}
	changed = roster_apply_item_full(s->contacts, &item, &item_changed);
	if (ver)
		contacts_set_roster_ver(s->contacts, ver);
	xmpp_session_send_iq_result(s, iq, NULL);
	report_item_change(s, item.jid, item_changed);
	xmpp_session_report_change(s, item.jid, changed);
	/* The contact is subscribed to us now (approved here or from
	 * another resource): its request is answered (§3.1.5). */
	if (!is_ended(s) && !item.remove &&
	    roster_subscription_has_from(item.subscription) &&
	    s->callbacks.subscription_request_gone)
		s->callbacks.subscription_request_gone(s->user_data, item.jid);
}

bool xmpp_session_is_payload(const Stanza *payload, const char *name,
			     const char *ns)
{
	return payload && strcmp(stanza_get_name(payload), name) == 0 &&
	       g_strcmp0(stanza_get_ns(payload), ns) == 0;
}

/* A get or set for us (the answers to ours went to their handlers). */
static void on_iq_request(XmppSession *s, const Stanza *iq)
{
	const char *type = stanza_get_attr(iq, "type");
	Stanza *payload;
	bool is_get;

	/* RFC 6120 §8.2.3: id and type are required; without an id there
	 * is nothing to answer to. */
	if (!type || !stanza_get_attr(iq, "id"))
		return;
	if (strcmp(type, "get") != 0 && strcmp(type, "set") != 0)
		return;
	if (state_of(s) == XMPP_SESSION_STATE_CLOSING)
		return;
	payload = stanza_get_first_child(iq);
	/* §8.2.3: exactly one child element; none or more is bad-request,
	 * not "we do not know it". */
	if (!payload || stanza_get_next_sibling(payload)) {
		xmpp_session_send_iq_error(s, iq, "modify", "bad-request");
		return;
	}
	is_get = strcmp(type, "get") == 0;
	if (is_get && xmpp_session_is_payload(payload, "ping", NS_PING)) {
		/* XEP-0199 §4. */
		xmpp_session_send_iq_result(s, iq, NULL);
		return;
	}
	if (strcmp(type, "set") == 0 &&
	    xmpp_session_is_payload(payload, "query", NS_ROSTER)) {
		on_roster_push(s, iq);
		return;
	}
	if (xmpp_session_caps_on_request(s, iq, is_get, payload) ||
	    xmpp_session_blocking_on_request(s, iq, is_get, payload))
		return;
	send_service_unavailable(s, iq);
}

/* ---- presence (RFC 6121 §4) --------------------------------------------- */

/*
 * Where a presence came from: the reader's tree, or its record (the
 * presence path, xml-reader.h). Only the <c/> is read after parsing.
 */
typedef struct {
	const Stanza *stanza;
	const PresenceRecord *record;
} PresenceSource;

static bool in_presence_state(const XmppSession *s)
{
	return state_of(s) == XMPP_SESSION_STATE_ROSTER ||
	       state_of(s) == XMPP_SESSION_STATE_ONLINE;
}

static void apply_presence(XmppSession *s, const PresenceInfo *info,
			   const PresenceSource *src)
{
	const char *full_jid = xmpp_stream_get_full_jid(s->stream);
	bool changed;

	if (!info->from_bare)
		return;
	/* XEP-0191 §3.5: the server stops a blocked contact's presence; one
	 * already on its way when the block took effect changes nothing. */
	if (info->type == PRESENCE_TYPE_AVAILABLE &&
	    xmpp_session_blocking_drops(s, info->from_full))
		return;
	switch (info->type) {
	case PRESENCE_TYPE_AVAILABLE:
		/* Our own broadcast comes back to us (§4.2.2); it is not a
		 * contact. */
		if (full_jid && g_strcmp0(info->from_full, full_jid) == 0)
			return;
		changed = contacts_update_resource(
			s->contacts, info->from_bare,
			info->from_resource ? info->from_resource : "",
			info->show, info->status, info->priority);
		/* After: the resource's ver is kept with it in the table. */
		if (src->record != NULL)
			xmpp_session_caps_on_available_record(
				s, info->from_full, src->record);
		else
			xmpp_session_caps_on_available(s, info->from_full,
						       src->stanza);
		xmpp_session_report_change(s, info->from_bare, changed);
		return;
	case PRESENCE_TYPE_UNAVAILABLE:
		if (full_jid && g_strcmp0(info->from_full, full_jid) == 0)
			return;
		xmpp_session_caps_on_gone(s, info->from_bare,
					  info->from_resource ? info->from_full
							      : NULL);
		changed = contacts_remove_resource(s->contacts, info->from_bare,
						   info->from_resource,
						   info->status);
		xmpp_session_report_change(s, info->from_bare, changed);
		return;
	case PRESENCE_TYPE_SUBSCRIBE:
		if (s->callbacks.subscription_request)
			s->callbacks.subscription_request(
				s->user_data, info->from_bare,
				info->status ? info->status : "");
		return;
	case PRESENCE_TYPE_UNSUBSCRIBE:
		/* §3.3: the contact cancels its subscription to us, or
		 * withdraws a request still pending. */
		if (s->callbacks.subscription_request_gone)
			s->callbacks.subscription_request_gone(s->user_data,
							       info->from_bare);
		return;
	case PRESENCE_TYPE_UNSUBSCRIBED:
		/*
		 * §3.2: the contact denies or revokes our subscription. The
		 * server pushes the roster change and should send unavailable
		 * for each resource; we do not count on the latter: presence
		 * we are no longer entitled to is dropped here.
		 */
		xmpp_session_caps_on_gone(s, info->from_bare, NULL);
		changed = contacts_remove_resource(s->contacts, info->from_bare,
						   NULL, NULL);
		xmpp_session_report_change(s, info->from_bare, changed);
		return;
	case PRESENCE_TYPE_SUBSCRIBED:
	case PRESENCE_TYPE_PROBE:
		/* subscribed: the roster push that follows says it all
		 * (§3.1.6); probes are for servers only. */
		return;
	case PRESENCE_TYPE_ERROR:
		/* §4.7.2: an error about our presence is no state. */
		return;
	}
}

static void on_presence(XmppSession *s, const Stanza *stanza)
{
	g_auto(PresenceInfo) info = {0};
	g_autoptr(GError) error = NULL;

	if (!in_presence_state(s))
		return;
	/* An invalid stanza must change nothing. */
	if (!presence_parse(stanza, &info, &error)) {
		g_debug("xmpp session: ignoring presence: %s", error->message);
		return;
	}
	apply_presence(s, &info, &(PresenceSource){.stanza = stanza});
}

static void on_presence_record(void *user_data, const PresenceRecord *record)
{
	XmppSession *s = user_data;
	g_auto(PresenceInfo) info = {0};
	g_autoptr(GError) error = NULL;

	if (!in_presence_state(s))
		return;
	if (!presence_parse_record(record, &info, &error)) {
		g_debug("xmpp session: ignoring presence: %s", error->message);
		return;
	}
	apply_presence(s, &info, &(PresenceSource){.record = record});
}

/* ---- from the stream ---------------------------------------------------- */

static void on_stanza(void *user_data, const Stanza *stanza)
{
	XmppSession *s = user_data;
	const char *name = stanza_get_name(stanza);

	if (strcmp(name, "presence") == 0)
		on_presence(s, stanza);
	else if (strcmp(name, "iq") == 0)
		on_iq_request(s, stanza);
	/* <message/>: not ours to handle (presence only). */
}

/*
 * Resumed: the server session is the one the learned state describes, and
 * whatever changed in it meanwhile (a block list push) is replayed by
 * XEP-0198. Only a nick set while the link was down goes out.
 */
static void adopt_learned(XmppSession *s)
{
	const StreamMgmtLearned *l = s->learned;

	s->pep = l->pep;
	s->nick_published = l->nick_published;
	g_free(s->published_nick);
	s->published_nick = g_strdup(l->nick);
	xmpp_session_blocking_resume(s, l->blocking);
	s->discovered = true;
	g_debug("xmpp session: PEP %s, blocking %s (from the resumed stream)",
		s->pep ? "available" : "not offered",
		s->blocking ? "offered" : "not offered");
	if (g_strcmp0(s->nick, s->published_nick) != 0)
		publish_nick(s);
}

static void on_resumed(void *user_data, const char *full_jid)
{
	XmppSession *s = user_data;

	/*
	 * The stream that dropped was a new session still in its resync
	 * grace period (that timer was the dropped XmppSession's): this is
	 * the same server session, so what is still stale goes after a
	 * grace period from now instead of staying for good.
	 */
	s->resync = contacts_count_stale(s->contacts) > 0;
	if (s->resync)
		start_settle(s);
	/* What the server offers (PEP, blocking) is what the resumed stream
	 * found out; asked again only where it had not finished. */
	if (s->learned)
		adopt_learned(s);
	else
		begin_pep_discovery(s);
	if (is_ended(s))
		return;
	if (s->callbacks.resumed)
		s->callbacks.resumed(s->user_data, full_jid);
	else if (s->callbacks.online)
		s->callbacks.online(s->user_data, full_jid);
}

static void on_closed(void *user_data, XmppSessionEnd reason,
		      const GError *error)
{
	XmppSession *s = user_data;

	s->settle_at = INT64_MAX;
	xmpp_session_caps_end(s, reason == XMPP_SESSION_END_NETWORK);
	if (s->callbacks.closed)
		s->callbacks.closed(s->user_data, reason, error);
}

static void on_log_wire(void *user_data, bool sent, const char *text)
{
	XmppSession *s = user_data;

	s->callbacks.log_wire(s->user_data, sent, text);
}

static void on_output_ready(void *user_data)
{
	XmppSession *s = user_data;

	if (s->callbacks.output_ready)
		s->callbacks.output_ready(s->user_data);
}

/* ---- construction ------------------------------------------------------- */

static XmppSession *session_new(const XmppSessionConfig *config,
				ContactTable *contacts,
				const XmppSessionCallbacks *callbacks,
				void *user_data)
{
	XmppSession *s = g_new0(XmppSession, 1);

	s->resync_grace = config->resync_grace > 0 ? config->resync_grace
						   : DEFAULT_RESYNC_GRACE;
	s->settle_at = INT64_MAX;
	s->contacts = contacts;
	s->callbacks = *callbacks;
	s->user_data = user_data;
	xmpp_session_caps_init(s);
	xmpp_session_blocking_init(s);
	/* The caps the server most likely still matches (blocking_hint);
	 * set_blocking() tells the owner only if discovery says otherwise. */
	if (config->blocking_hint)
		xmpp_session_caps_resume(s, true);
	return s;
}

static XmppStreamCallbacks stream_callbacks(const XmppSessionCallbacks *cb)
{
	return (XmppStreamCallbacks){
		.bound = on_bound,
		.resumed = on_resumed,
		.stanza = on_stanza,
		.presence = on_presence_record,
		.closed = on_closed,
		/* NULL stays NULL: the stream then skips serializing. */
		.log_wire = cb->log_wire ? on_log_wire : NULL,
		.output_ready = on_output_ready,
	};
}

XmppSession *xmpp_session_new(const XmppSessionConfig *config,
			      ContactTable *contacts,
			      const XmppSessionCallbacks *callbacks,
			      void *user_data, GError **error)
{
	g_autoptr(XmppSession) s = NULL;
	XmppStreamCallbacks scb;

	g_return_val_if_fail(config != NULL, NULL);
	g_return_val_if_fail(contacts != NULL, NULL);
	g_return_val_if_fail(callbacks != NULL, NULL);

	s = session_new(config, contacts, callbacks, user_data);
	scb = stream_callbacks(callbacks);
	s->stream = xmpp_stream_new(config, &scb, s, error);
	if (!s->stream)
		return NULL;
	return g_steal_pointer(&s);
}

XmppSession *xmpp_session_new_bound_for_test(
	const XmppSessionConfig *config, ContactTable *contacts,
	const XmppSessionCallbacks *callbacks, void *user_data,
	const char *full_jid, const char *const *features)
{
	g_autoptr(XmppSession) s = NULL;
	XmppStreamCallbacks scb;

	s = session_new(config, contacts, callbacks, user_data);
	scb = stream_callbacks(callbacks);
	s->stream = xmpp_stream_new_bound_for_test(config, &scb, s, full_jid,
						   features);
	if (!s->stream)
		return NULL;
	return g_steal_pointer(&s);
}

static void free_learned(XmppSession *s)
{
	if (s->learned)
		g_free((char *)s->learned->nick);
	g_clear_pointer(&s->learned, g_free);
}

void xmpp_session_free(XmppSession *s)
{
	if (!s)
		return;
	xmpp_stream_free(s->stream);
	xmpp_session_caps_clear(s);
	xmpp_session_blocking_clear(s);
	g_free(s->nick);
	g_free(s->published_nick);
	free_learned(s);
	g_free(s);
}

/* ---- public API --------------------------------------------------------- */

void xmpp_session_start(XmppSession *s, int64_t now)
{
	g_return_if_fail(s != NULL);

	xmpp_stream_start(s->stream, now);
}

void xmpp_session_feed(XmppSession *s, const char *data, size_t len,
		       int64_t now)
{
	g_return_if_fail(s != NULL);

	xmpp_stream_feed(s->stream, data, len, now);
}

void xmpp_session_eof(XmppSession *s, const GError *error)
{
	g_return_if_fail(s != NULL);

	xmpp_stream_eof(s->stream, error);
}

void xmpp_session_take_output(XmppSession *s, GByteArray *out)
{
	g_return_if_fail(s != NULL);

	xmpp_stream_take_output(s->stream, out);
}

bool xmpp_session_has_output(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, false);

	return xmpp_stream_has_output(s->stream);
}

int64_t xmpp_session_get_deadline(const XmppSession *s)
{
	int64_t d;

	g_return_val_if_fail(s != NULL, INT64_MAX);

	d = xmpp_stream_get_deadline(s->stream);
	/* The end of a resync and the caps queries' timeouts are the
	 * session's timers. */
	if (state_of(s) == XMPP_SESSION_STATE_ONLINE) {
		d = MIN(d, s->settle_at);
		d = MIN(d, xmpp_session_caps_get_deadline(s));
	}
	return d;
}

/* The resync grace is over: what the server did not send again is gone. */
static void settle_resync(XmppSession *s)
{
	g_autoptr(GPtrArray) changed = contacts_drop_stale(s->contacts);

	s->settle_at = INT64_MAX;
	s->resync = false;
	for (size_t i = 0; i < changed->len && !is_ended(s); i++)
		xmpp_session_report_change(s, g_ptr_array_index(changed, i),
					   true);
}

void xmpp_session_tick(XmppSession *s, int64_t now)
{
	g_return_if_fail(s != NULL);

	if (is_ended(s))
		return;
	if (state_of(s) == XMPP_SESSION_STATE_ONLINE && now >= s->settle_at)
		settle_resync(s);
	if (state_of(s) == XMPP_SESSION_STATE_ONLINE)
		xmpp_session_caps_tick(s, now);
	if (!is_ended(s))
		xmpp_stream_tick(s->stream, now);
}

XmppSessionState xmpp_session_get_state(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, XMPP_SESSION_STATE_CLOSED);

	return state_of(s);
}

const char *xmpp_session_get_full_jid(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	return state_of(s) == XMPP_SESSION_STATE_ONLINE
		       ? xmpp_stream_get_full_jid(s->stream)
		       : NULL;
}

const char *xmpp_session_get_roster_ver(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	return contacts_get_roster_ver(s->contacts);
}

/* Sends what the caller built when ONLINE; false otherwise. */
static bool send_online(XmppSession *s, Stanza *stanza)
{
	if (!stanza || state_of(s) != XMPP_SESSION_STATE_ONLINE)
		return false;
	xmpp_stream_send(s->stream, stanza);
	return !is_ended(s);
}

bool xmpp_session_send_presence(XmppSession *s, const PresenceSpec *spec)
{
	g_autoptr(Stanza) presence = NULL;

	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(spec != NULL, false);

	if (state_of(s) != XMPP_SESSION_STATE_ONLINE)
		return false;
	presence = presence_build(spec);
	/* XEP-0115 §4: every available presence says what we are. */
	if (presence && spec->show != PRESENCE_SHOW_OFFLINE)
		xmpp_session_caps_add_c(s, presence);
	return send_online(s, presence);
}

void xmpp_session_get_auth_info(const XmppSession *s, XmppAuthInfo *ret)
{
	xmpp_stream_get_auth_info(s->stream, ret);
}

void xmpp_session_get_auth_hints(const XmppSession *s, XmppAuthHints *ret)
{
	xmpp_stream_get_auth_hints(s->stream, ret);
}

bool xmpp_session_steal_fast_token(XmppSession *s, char **ret_token,
				   FastMechanism *ret_mechanism,
				   char **ret_expiry)
{
	return xmpp_stream_steal_fast_token(s->stream, ret_token, ret_mechanism,
					    ret_expiry);
}

bool xmpp_session_has_csi(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, false);

	return xmpp_stream_offers(s->stream, XMPP_STREAM_FEATURE_CSI);
}

bool xmpp_session_send_csi(XmppSession *s, bool active)
{
	g_autoptr(Stanza) csi = NULL;

	g_return_val_if_fail(s != NULL, false);

	if (!xmpp_session_has_csi(s))
		return false;
	/* XEP-0352 §3: a top-level element, not a stanza. */
	csi = stanza_new(active ? "active" : "inactive", NS_CSI);
	return send_online(s, csi);
}

bool xmpp_session_send_subscription(XmppSession *s, PresenceType type,
				    const char *to, const char *nick,
				    const char *message)
{
	g_autoptr(Stanza) presence = NULL;

	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(to != NULL, false);

	if (state_of(s) != XMPP_SESSION_STATE_ONLINE)
		return false;
	presence = presence_build_subscription(type, to, nick, message);
	return send_online(s, presence);
}

StreamMgmt *xmpp_session_steal_resume_state(XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	StreamMgmt *sm = xmpp_stream_steal_resume_state(s->stream);

	/* Not discovered (dropped while resuming, or before the answers
	 * came): the state keeps what it had, if anything. */
	if (sm && s->discovered)
		stream_mgmt_set_learned(
			sm, &(StreamMgmtLearned){
				    .pep = s->pep,
				    .blocking = s->blocking,
				    .nick_published = s->nick_published,
				    .nick = s->published_nick,
			    });
	return sm;
}

bool xmpp_session_get_blocking_found(const XmppSession *s, bool *ret_blocking)
{
	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(ret_blocking != NULL, false);

	if (!s->discovered)
		return false;
	*ret_blocking = s->blocking;
	return true;
}

void xmpp_session_set_resume_state(XmppSession *s, StreamMgmt *sm)
{
	g_return_if_fail(s != NULL);

	const StreamMgmtLearned *l = sm ? stream_mgmt_get_learned(sm) : NULL;

	free_learned(s);
	if (l) {
		s->learned = g_new(StreamMgmtLearned, 1);
		*s->learned = *l;
		s->learned->nick = g_strdup(l->nick);
	}
	xmpp_stream_set_resume_state(s->stream, sm);
}

static void on_remove_result(void *data, const Stanza *iq)
{
	(void)data;
	/* The push that follows a success updates the table. */
	if (g_strcmp0(stanza_get_attr(iq, "type"), "result") != 0)
		g_debug("xmpp session: roster removal refused: %s",
			xmpp_session_iq_error_condition(iq));
}

bool xmpp_session_remove_roster_item(XmppSession *s, const char *bare_jid)
{
	g_autoptr(Stanza) iq = NULL;
	Stanza *item;

	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(bare_jid != NULL, false);

	if (state_of(s) != XMPP_SESSION_STATE_ONLINE)
		return false;
	/* RFC 6121 §2.5.2: the server answers, pushes the removal and
	 * cancels both subscriptions; the push updates the table. */
	iq = xmpp_session_new_iq("set");
	item = stanza_add_child_new(
		stanza_add_child_new(iq, "query", NS_ROSTER), "item", NULL);
	stanza_set_attr(item, "jid", bare_jid);
	stanza_set_attr(item, "subscription", "remove");
	return xmpp_stream_send_iq(s->stream, iq, on_remove_result, s);
}

bool xmpp_session_has_pre_approval(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, false);

	return xmpp_stream_offers(s->stream, XMPP_STREAM_FEATURE_PRE_APPROVAL);
}

void xmpp_session_set_nick(XmppSession *s, const char *nick)
{
	g_return_if_fail(s != NULL);

	if (nick && !*nick)
		nick = NULL;
	if (g_strcmp0(s->nick, nick) == 0)
		return;
	g_free(s->nick);
	s->nick = g_strdup(nick);
	publish_nick(s);
}

void xmpp_session_close(XmppSession *s)
{
	xmpp_session_close_with_status(s, NULL);
}

void xmpp_session_close_with_status(XmppSession *s, const char *status)
{
	g_autoptr(Stanza) goodbye = NULL;

	g_return_if_fail(s != NULL);

	/* RFC 6121 §4.5.1: unavailable before closing the stream. */
	if (state_of(s) == XMPP_SESSION_STATE_ONLINE)
		goodbye = presence_build(&(PresenceSpec){
			.show = PRESENCE_SHOW_OFFLINE, .status = status});
	xmpp_stream_close(s->stream, goodbye);
}
