/* SPDX-License-Identifier: MIT */
/*
 * Redaction for --debug wire logs (STYLE.md §7, CONTRACT.md --debug): the
 * stanza is copied, secrets in the copy are overwritten, and the copy is
 * serialized with the ordinary serializer, so escaping is the same as on
 * the wire.
 */
#include "config.h"

#include <string.h>

#include "core/redact.h"

#define REDACTED "[redacted]"

/*
 * RFC 6120 §6.4: every SASL element may carry credentials or data derived
 * from them (the PLAIN password, SCRAM proofs and server signatures).
 */
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
/* XEP-0388 (SASL2) carries the same payloads in its own elements. */
#define NS_SASL2 "urn:xmpp:sasl:2"
#define NS_FAST "urn:xmpp:fast:0"

static bool is_secret_element(const Stanza *el)
{
	const char *name = stanza_get_name(el);
	const char *ns = stanza_get_ns(el);

	/*
	 * Any <password/>: jabber:iq:auth (XEP-0078), jabber:iq:register
	 * (XEP-0077) password changes.
	 */
	if (strcmp(name, "password") == 0)
		return true;
	/* XEP-0004 form fields named like a password (XEP-0077 forms). */
	if (strcmp(name, "field") == 0 && stanza_get_attr(el, "var") != NULL &&
	    strstr(stanza_get_attr(el, "var"), "password") != NULL)
		return true;
	if (ns == NULL)
		return false;
	if (strcmp(ns, NS_SASL) != 0 && strcmp(ns, NS_SASL2) != 0)
		return false;
	/*
	 * Only the payload carriers: the offered <mechanism/> names and a
	 * <failure/> condition are what a person debugging a login needs.
	 */
	static const char *const payloads[] = {
		"auth",
		"response",
		"challenge",
		"success",
		"authenticate",
		"initial-response",
		"additional-data",
	};
	for (size_t i = 0; i < G_N_ELEMENTS(payloads); i++)
		if (strcmp(name, payloads[i]) == 0)
			return true;
	return false;
}

/*
 * Walks the subtree; inherited (NULL) namespaces are resolved on the way
 * so a child built without xmlns under <auth/> is still recognized.
 */
static void scrub(Stanza *el, bool inside_secret)
{
	bool secret = inside_secret || is_secret_element(el);

	if (secret && stanza_get_text(el)[0] != '\0')
		stanza_set_text(el, REDACTED);
	/* XEP-0484: the FAST token is an attribute of <token/>. */
	if (strcmp(stanza_get_name(el), "token") == 0 &&
	    g_strcmp0(stanza_get_ns(el), NS_FAST) == 0 &&
	    stanza_get_attr(el, "token") != NULL)
		stanza_set_attr(el, "token", REDACTED);
	for (Stanza *c = stanza_get_first_child(el); c != NULL;
	     c = stanza_get_next_sibling(c))
		scrub(c, secret);
}

char *redact_log_stanza(const Stanza *stanza)
{
	g_autoptr(Stanza) copy = NULL;

	g_return_val_if_fail(stanza != NULL, NULL);

	copy = stanza_copy(stanza);
	scrub(copy, false);
	return stanza_to_string(copy);
}
