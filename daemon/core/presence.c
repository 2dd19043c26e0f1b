/* SPDX-License-Identifier: MIT */
/*
 * Presence values and stanzas: RFC 6121 §4.7 (syntax of <presence/>),
 * XEP-0172 (user nickname), XEP-0319 (last user interaction in presence).
 */
#include "config.h"

#include <string.h>

#include "core/jid.h"
#include "core/presence.h"
#include "core/text.h"

#define NS_CLIENT "jabber:client"
#define NS_NICK "http://jabber.org/protocol/nick"
#define NS_IDLE "urn:xmpp:idle:1"

G_DEFINE_QUARK(presence - error - quark, presence_error)

static const char *const show_names[] = {
	[PRESENCE_SHOW_OFFLINE] = "offline",
	[PRESENCE_SHOW_UNKNOWN] = "unknown",
	[PRESENCE_SHOW_XA] = "xa",
	[PRESENCE_SHOW_AWAY] = "away",
	[PRESENCE_SHOW_DND] = "dnd",
	[PRESENCE_SHOW_AVAILABLE] = "available",
	[PRESENCE_SHOW_CHAT] = "chat",
};

static const char *const type_names[] = {
	[PRESENCE_TYPE_AVAILABLE] = NULL,
	[PRESENCE_TYPE_UNAVAILABLE] = "unavailable",
	[PRESENCE_TYPE_SUBSCRIBE] = "subscribe",
	[PRESENCE_TYPE_SUBSCRIBED] = "subscribed",
	[PRESENCE_TYPE_UNSUBSCRIBE] = "unsubscribe",
	[PRESENCE_TYPE_UNSUBSCRIBED] = "unsubscribed",
	[PRESENCE_TYPE_PROBE] = "probe",
	[PRESENCE_TYPE_ERROR] = "error",
};

const char *presence_show_to_string(PresenceShow show)
{
	g_return_val_if_fail((size_t)show < G_N_ELEMENTS(show_names), NULL);

	return show_names[show];
}

bool presence_show_from_string(const char *str, bool allow_unknown,
			       PresenceShow *ret_show)
{
	g_return_val_if_fail(ret_show != NULL, false);

	if (str == NULL)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(show_names); i++) {
		if (strcmp(str, show_names[i]) != 0)
			continue;
		if (i == PRESENCE_SHOW_UNKNOWN && !allow_unknown)
			return false;
		*ret_show = (PresenceShow)i;
		return true;
	}
	return false;
}

int presence_show_rank(PresenceShow show)
{
	/* The enum is declared in order of availability. */
	switch (show) {
	case PRESENCE_SHOW_OFFLINE:
	case PRESENCE_SHOW_UNKNOWN:
	case PRESENCE_SHOW_XA:
	case PRESENCE_SHOW_AWAY:
	case PRESENCE_SHOW_DND:
	case PRESENCE_SHOW_AVAILABLE:
	case PRESENCE_SHOW_CHAT:
		return (int)show;
	}
	return -1;
}

void presence_info_clear(PresenceInfo *info)
{
	if (info == NULL)
		return;
	g_clear_pointer(&info->from_full, g_free);
	g_clear_pointer(&info->from_bare, g_free);
	g_clear_pointer(&info->from_resource, g_free);
	g_clear_pointer(&info->status, g_free);
	g_clear_pointer(&info->nick, g_free);
}

/* ---- parsing --------------------------------------------------------------
 */

/* A child of the presence in the stanza's own namespace (RFC 6121 §4.7.2:
 * <show/>, <status/>, <priority/> are qualified by the content namespace). */
static bool is_own_child(const Stanza *presence, const Stanza *child,
			 const char *name)
{
	const char *ns = stanza_get_ns(child);
	const char *pns = stanza_get_ns(presence);

	if (strcmp(stanza_get_name(child), name) != 0)
		return false;
	return ns == NULL || strcmp(ns, NS_CLIENT) == 0 ||
	       (pns != NULL && strcmp(ns, pns) == 0);
}

static bool check_utf8(const char *text, const char *what, GError **error)
{
	if (g_utf8_validate(text, -1, NULL))
		return true;
	g_set_error(error, PRESENCE_ERROR, PRESENCE_ERROR_INVALID,
		    "presence %s is not valid UTF-8", what);
	return false;
}

/* Copy of text cut to max bytes at a character boundary; NULL if empty.
 * text is valid UTF-8. */
static char *dup_bounded(const char *text, size_t max)
{
	size_t len = text_bounded_len(text, max);

	return len > 0 ? g_strndup(text, len) : NULL;
}

static bool parse_type(const char *str, PresenceType *ret, GError **error)
{
	if (str == NULL) {
		*ret = PRESENCE_TYPE_AVAILABLE;
		return true;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(type_names); i++) {
		if (type_names[i] != NULL && strcmp(str, type_names[i]) == 0) {
			*ret = (PresenceType)i;
			return true;
		}
	}
	if (!check_utf8(str, "type", error))
		return false;
	g_set_error(error, PRESENCE_ERROR, PRESENCE_ERROR_INVALID,
		    "presence type '%s' is unknown", str);
	return false;
}

/* text without the leading and trailing whitespace g_strstrip() drops,
 * found in place (no copy per <show/> and <priority/>). */
static const char *trimmed(const char *text, size_t *ret_len)
{
	size_t len = strlen(text);

	while (len > 0 && g_ascii_isspace(*text)) {
		text++;
		len--;
	}
	while (len > 0 && g_ascii_isspace(text[len - 1]))
		len--;
	*ret_len = len;
	return text;
}

static bool span_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* RFC 6121 §4.7.2.1; a value outside the four is taken as no <show/>:
 * the sender is online, which is what matters for availability. */
static PresenceShow parse_show(const char *text)
{
	size_t len;
	const char *value = trimmed(text, &len);

	if (span_is(value, len, "away"))
		return PRESENCE_SHOW_AWAY;
	if (span_is(value, len, "chat"))
		return PRESENCE_SHOW_CHAT;
	if (span_is(value, len, "dnd"))
		return PRESENCE_SHOW_DND;
	if (span_is(value, len, "xa"))
		return PRESENCE_SHOW_XA;
	return PRESENCE_SHOW_AVAILABLE;
}

/* RFC 6121 §4.7.2.3: an integer -128..127. Out of range is clamped; a value
 * that is no integer at all is taken as absent (0). */
static int parse_priority(const char *text)
{
	char buf[32];
	g_autofree char *heap = NULL;
	size_t len;
	const char *span = trimmed(text, &len);
	char *value = buf;
	char *end = NULL;
	gint64 n;

	if (len == 0)
		return 0;
	if (len >= sizeof(buf))
		value = heap = g_malloc(len + 1);
	memcpy(value, span, len);
	value[len] = '\0';
	n = g_ascii_strtoll(value, &end, 10);
	if (end == value || *end != '\0')
		return 0;
	return (int)CLAMP(n, -128, 127);
}

/* presence_parse() and presence_parse_record() in the making: the two
 * walk different containers through the same steps. */
typedef struct {
	PresenceInfo info;
	const char *status; /* the <status/> text kept so far (borrowed) */
	bool status_has_lang;
} Parsing;

static bool parse_head(Parsing *p, const char *type, const char *from,
		       GError **error)
{
	if (!parse_type(type, &p->info.type, error))
		return false;
	if (from != NULL) {
		g_autoptr(GError) local = NULL;
		Jid *jid;

		/* jid_parse checks UTF-8 too. */
		jid = jid_parse(from, &local);
		if (jid == NULL) {
			g_set_error(error, PRESENCE_ERROR,
				    PRESENCE_ERROR_INVALID,
				    "presence from is not a valid JID: %s",
				    local->message);
			return false;
		}
		jid_free_to_strings(jid, &p->info.from_full, &p->info.from_bare,
				    &p->info.from_resource);
	}
	p->info.show = p->info.type == PRESENCE_TYPE_UNAVAILABLE
			       ? PRESENCE_SHOW_OFFLINE
			       : PRESENCE_SHOW_AVAILABLE;
	return true;
}

static bool parse_part(Parsing *p, PresencePartKind kind, bool has_lang,
		       const char *text, GError **error)
{
	switch (kind) {
	case PRESENCE_PART_STATUS:
		/* Every <status/> is checked, not only the one we keep: the
		 * whole stanza changes nothing if any is bad. */
		if (!check_utf8(text, "status", error))
			return false;
		if (p->status == NULL || (p->status_has_lang && !has_lang)) {
			p->status = text;
			p->status_has_lang = has_lang;
		}
		return true;
	case PRESENCE_PART_SHOW:
		if (!check_utf8(text, "show", error))
			return false;
		if (p->info.type == PRESENCE_TYPE_AVAILABLE)
			p->info.show = parse_show(text);
		return true;
	case PRESENCE_PART_PRIORITY:
		if (!check_utf8(text, "priority", error))
			return false;
		p->info.priority = parse_priority(text);
		return true;
	case PRESENCE_PART_NICK:
		if (!check_utf8(text, "nick", error))
			return false;
		g_free(p->info.nick);
		p->info.nick = dup_bounded(text, PRESENCE_MAX_NICK_BYTES);
		return true;
	case PRESENCE_PART_NONE:
	case PRESENCE_PART_CAPS:
		break;
	}
	return true;
}

static void parse_finish(Parsing *p, PresenceInfo *ret)
{
	if (p->status != NULL)
		p->info.status =
			dup_bounded(p->status, PRESENCE_MAX_STATUS_BYTES);
	*ret = p->info;
	memset(&p->info, 0, sizeof(p->info));
}

/* What a child of a presence tree is (RFC 6121 §4.7.2). */
static PresencePartKind tree_part_kind(const Stanza *presence,
				       const Stanza *child)
{
	const char *ns = stanza_get_ns(child);

	if (is_own_child(presence, child, "status"))
		return PRESENCE_PART_STATUS;
	if (is_own_child(presence, child, "show"))
		return PRESENCE_PART_SHOW;
	if (is_own_child(presence, child, "priority"))
		return PRESENCE_PART_PRIORITY;
	if (ns != NULL && strcmp(ns, NS_NICK) == 0 &&
	    strcmp(stanza_get_name(child), "nick") == 0)
		return PRESENCE_PART_NICK;
	return PRESENCE_PART_NONE;
}

bool presence_parse(const Stanza *stanza, PresenceInfo *ret, GError **error)
{
	Parsing p = {0};

	g_return_val_if_fail(stanza != NULL, false);
	g_return_val_if_fail(ret != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	if (!parse_head(&p, stanza_get_attr(stanza, "type"),
			stanza_get_attr(stanza, "from"), error))
		goto fail;
	for (const Stanza *child = stanza_get_first_child(stanza);
	     child != NULL; child = stanza_get_next_sibling(child)) {
		PresencePartKind kind = tree_part_kind(stanza, child);

		if (kind == PRESENCE_PART_NONE)
			continue;
		if (!parse_part(&p, kind,
				kind == PRESENCE_PART_STATUS &&
					stanza_get_attr(child, "xml:lang") !=
						NULL,
				stanza_get_text(child), error))
			goto fail;
	}
	parse_finish(&p, ret);
	return true;
fail:
	presence_info_clear(&p.info);
	return false;
}

bool presence_parse_record(const PresenceRecord *record, PresenceInfo *ret,
			   GError **error)
{
	Parsing p = {0};
	size_t n;

	g_return_val_if_fail(record != NULL, false);
	g_return_val_if_fail(ret != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	if (!parse_head(&p, presence_record_get_type(record),
			presence_record_get_from(record), error))
		goto fail;
	n = presence_record_get_n_parts(record);
	for (size_t i = 0; i < n; i++) {
		PresencePartKind kind;
		bool has_lang;
		const char *text;

		presence_record_get_part(record, i, &kind, &has_lang, &text);
		if (!parse_part(&p, kind, has_lang, text, error))
			goto fail;
	}
	parse_finish(&p, ret);
	return true;
fail:
	presence_info_clear(&p.info);
	return false;
}

/* ---- building -------------------------------------------------------------
 */

static const char *show_element_text(PresenceShow show)
{
	switch (show) {
	case PRESENCE_SHOW_AWAY:
		return "away";
	case PRESENCE_SHOW_CHAT:
		return "chat";
	case PRESENCE_SHOW_DND:
		return "dnd";
	case PRESENCE_SHOW_XA:
		return "xa";
	case PRESENCE_SHOW_AVAILABLE:
	case PRESENCE_SHOW_OFFLINE:
	case PRESENCE_SHOW_UNKNOWN:
		break;
	}
	return NULL;
}

Stanza *presence_build(const PresenceSpec *spec)
{
	g_autoptr(Stanza) presence = NULL;
	const char *show_text;

	g_return_val_if_fail(spec != NULL, NULL);
	g_return_val_if_fail(spec->show != PRESENCE_SHOW_UNKNOWN, NULL);

	presence = stanza_new("presence", NS_CLIENT);
	if (spec->to != NULL)
		stanza_set_attr(presence, "to", spec->to);
	if (spec->show == PRESENCE_SHOW_OFFLINE)
		stanza_set_attr(presence, "type", "unavailable");

	show_text = show_element_text(spec->show);
	if (show_text != NULL)
		(void)stanza_add_child_text(presence, "show", NULL, show_text);
	if (spec->status != NULL && spec->status[0] != '\0')
		(void)stanza_add_child_text(presence, "status", NULL,
					    spec->status);
	if (spec->show != PRESENCE_SHOW_OFFLINE) {
		g_autofree char *prio =
			g_strdup_printf("%d", CLAMP(spec->priority, -128, 127));

		(void)stanza_add_child_text(presence, "priority", NULL, prio);
	}
	/* XEP-0172 §4.5: no nick in presence broadcasts. */
	if (spec->to != NULL && spec->nick != NULL && spec->nick[0] != '\0')
		(void)stanza_add_child_text(presence, "nick", NS_NICK,
					    spec->nick);
	if (spec->idle_since > 0 && spec->show != PRESENCE_SHOW_OFFLINE) {
		g_autoptr(GDateTime) dt =
			g_date_time_new_from_unix_utc(spec->idle_since);

		if (dt != NULL) {
			g_autofree char *since =
				g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
			Stanza *idle =
				stanza_add_child_new(presence, "idle", NS_IDLE);

			stanza_set_attr(idle, "since", since);
		}
	}
	return g_steal_pointer(&presence);
}

Stanza *presence_build_subscription(PresenceType type, const char *to,
				    const char *nick, const char *status)
{
	g_autoptr(Stanza) presence = NULL;

	g_return_val_if_fail(to != NULL, NULL);
	g_return_val_if_fail(type == PRESENCE_TYPE_SUBSCRIBE ||
				     type == PRESENCE_TYPE_SUBSCRIBED ||
				     type == PRESENCE_TYPE_UNSUBSCRIBE ||
				     type == PRESENCE_TYPE_UNSUBSCRIBED,
			     NULL);

	presence = stanza_new("presence", NS_CLIENT);
	stanza_set_attr(presence, "to", to);
	stanza_set_attr(presence, "type", type_names[type]);
	if (status != NULL && status[0] != '\0')
		(void)stanza_add_child_text(presence, "status", NULL, status);
	/* XEP-0172 §4.2: the nick goes with a subscription request. */
	if (type == PRESENCE_TYPE_SUBSCRIBE && nick != NULL && nick[0] != '\0')
		(void)stanza_add_child_text(presence, "nick", NS_NICK, nick);
	return g_steal_pointer(&presence);
}
