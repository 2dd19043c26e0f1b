/* SPDX-License-Identifier: MIT */
/*
 * SASL mechanism and channel-binding choice (RFC 6120 §6.3.3, RFC 5802 §6,
 * XEP-0440, XEP-0474 §7). The features are server input: everything kept
 * is bounded, nothing is trusted beyond "the server says it offers this".
 */
#include "config.h"

#include <string.h>

#include "core/sasl-choice.h"

#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_SASL_CB "urn:xmpp:sasl-cb:0" /* XEP-0440 §2 */
#define NS_SASL2 "urn:xmpp:sasl:2"	/* XEP-0388 §2.1 */

/* A bounded copy of a server string without surrounding whitespace;
 * NULL if empty or over the cap. */
static char *bounded_name(const char *s)
{
	if (s == NULL)
		return NULL;
	while (g_ascii_isspace(*s))
		s++;
	size_t len = strnlen(s, SASL_CHOICE_MAX_NAME_BYTES + 1);
	if (len > SASL_CHOICE_MAX_NAME_BYTES)
		return NULL;
	while (len > 0 && g_ascii_isspace(s[len - 1]))
		len--;
	return len > 0 ? g_strndup(s, len) : NULL;
}

static bool is_element(const Stanza *el, const char *name, const char *ns)
{
	return strcmp(stanza_get_name(el), name) == 0 &&
	       g_strcmp0(stanza_get_ns(el), ns) == 0;
}

static SaslChannelBinding binding_from_string(const char *name)
{
	if (strcmp(name, "tls-exporter") == 0)
		return SASL_CHANNEL_BINDING_TLS_EXPORTER;
	if (strcmp(name, "tls-server-end-point") == 0)
		return SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT;
	/* tls-unique (RFC 5929 §3) and future types: not ours. */
	return SASL_CHANNEL_BINDING_NONE;
}

/* The <mechanism/> children of list in ns, then XEP-0440 from features. */
static void parse_offer(const Stanza *features, const Stanza *list,
			const char *ns, SaslServerOffer *ret_offer)
{
	g_autoptr(GPtrArray) mechs = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) types = g_ptr_array_new_with_free_func(g_free);
	bool advertised = false;
	unsigned known = 0;

	for (const Stanza *c = list != NULL ? stanza_get_first_child(list)
					    : NULL;
	     c != NULL && mechs->len < SASL_CHOICE_MAX_MECHANISMS;
	     c = stanza_get_next_sibling(c)) {
		if (!is_element(c, "mechanism", ns))
			continue;
		char *name = bounded_name(stanza_get_text(c));
		if (name != NULL)
			g_ptr_array_add(mechs, name);
	}

	const Stanza *cb =
		features != NULL
			? stanza_get_child(features, "sasl-channel-binding",
					   NS_SASL_CB)
			: NULL;
	if (cb != NULL) {
		advertised = true;
		for (const Stanza *c = stanza_get_first_child(cb);
		     c != NULL && types->len < SASL_CHOICE_MAX_BINDINGS;
		     c = stanza_get_next_sibling(c)) {
			if (!is_element(c, "channel-binding", NS_SASL_CB))
				continue;
			char *type = bounded_name(stanza_get_attr(c, "type"));
			if (type == NULL)
				continue;
			SaslChannelBinding b = binding_from_string(type);
			if (b != SASL_CHANNEL_BINDING_NONE)
				known |= SASL_CHANNEL_BINDING_BIT(b);
			g_ptr_array_add(types, type);
		}
	}

	g_ptr_array_add(mechs, NULL);
	g_ptr_array_add(types, NULL);
	ret_offer->mechanisms = (char **)g_ptr_array_steal(mechs, NULL);
	ret_offer->bindings_advertised = advertised;
	ret_offer->bindings = (char **)g_ptr_array_steal(types, NULL);
	ret_offer->binding_types = known;
}

void sasl_choice_parse_features(const Stanza *features,
				SaslServerOffer *ret_offer)
{
	g_return_if_fail(ret_offer != NULL);

	parse_offer(features,
		    features != NULL
			    ? stanza_get_child(features, "mechanisms", NS_SASL)
			    : NULL,
		    NS_SASL, ret_offer);
}

void sasl_choice_parse_sasl2_features(const Stanza *features,
				      SaslServerOffer *ret_offer)
{
	g_return_if_fail(ret_offer != NULL);

	parse_offer(
		features,
		features != NULL
			? stanza_get_child(features, "authentication", NS_SASL2)
			: NULL,
		NS_SASL2, ret_offer);
}

/* Bindings that this connection can really carry. */
static unsigned usable_bindings(const SaslChoiceInput *in)
{
	unsigned bits = in->computable;

	if (!in->tls_active)
		return 0;
	/* RFC 9266 §3: tls-exporter is for TLS 1.3 only. */
	if (in->tls_version != TLS_SESSION_VERSION_1_3)
		bits &= ~SASL_CHANNEL_BINDING_BIT(
			SASL_CHANNEL_BINDING_TLS_EXPORTER);
	return bits;
}

/* Any SCRAM-*-PLUS, known to us or not: the server binds channels. */
static bool offers_plus(const SaslServerOffer *offer)
{
	for (char **m = offer->mechanisms; m != NULL && *m != NULL; m++) {
		if (g_str_has_prefix(*m, "SCRAM-") &&
		    g_str_has_suffix(*m, "-PLUS"))
			return true;
	}
	return false;
}

bool sasl_choice_select(const SaslChoiceInput *in, SaslChoice *ret_choice,
			GError **error)
{
	g_return_val_if_fail(in != NULL && in->offer != NULL, false);
	g_return_val_if_fail(ret_choice != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	const SaslServerOffer *offer = in->offer;
	unsigned usable = usable_bindings(in);
	unsigned both =
		offer->bindings_advertised ? usable & offer->binding_types : 0;
	SaslChannelBinding binding = SASL_CHANNEL_BINDING_NONE;
	if (both & SASL_CHANNEL_BINDING_BIT(SASL_CHANNEL_BINDING_TLS_EXPORTER))
		binding = SASL_CHANNEL_BINDING_TLS_EXPORTER;
	else if (both & SASL_CHANNEL_BINDING_BIT(
				SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT))
		binding = SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT;

	SaslMechanism best = SASL_MECHANISM_NONE;
	bool plain_refused = false;
	for (char **m = offer->mechanisms; m != NULL && *m != NULL; m++) {
		SaslMechanism mech = sasl_mechanism_from_string(*m);

		if (mech == SASL_MECHANISM_NONE)
			continue;
		if (sasl_mechanism_is_plus(mech) &&
		    binding == SASL_CHANNEL_BINDING_NONE)
			continue;
		if (mech == SASL_MECHANISM_PLAIN) {
			/* RFC 4616 §5: the password goes in clear. */
			if (!in->tls_active)
				continue;
			/* XEP-0474 §7 rule 1: SCRAM worked, PLAIN is a
			 * downgrade. */
			if (in->scram_worked_before) {
				plain_refused = true;
				continue;
			}
		}
		/* The enum is ordered weakest to strongest. */
		if (mech > best)
			best = mech;
	}

	if (best == SASL_MECHANISM_NONE) {
		if (plain_refused)
			g_set_error_literal(
				error, SASL_ERROR, SASL_ERROR_PLAIN_REFUSED,
				"The server offers only PLAIN, but SCRAM has "
				"worked for this account before: refusing to "
				"send the password in clear (possible "
				"downgrade attack)");
		else
			g_set_error(error, SASL_ERROR, SASL_ERROR_NO_MECHANISM,
				    "The server offers no SASL mechanism we "
				    "accept%s",
				    in->tls_active ? ""
						   : " (PLAIN is refused "
						     "without TLS)");
		return false;
	}

	SaslChoice choice = {.mechanism = best};
	if (sasl_mechanism_is_plus(best)) {
		choice.binding = binding;
		choice.gs2_flag = SASL_GS2_FLAG_P;
	} else if (best == SASL_MECHANISM_PLAIN) {
		choice.binding = SASL_CHANNEL_BINDING_NONE;
		choice.gs2_flag = SASL_GS2_FLAG_N;
	} else {
		/*
		 * RFC 5802 §6: "y" tells a server that binds that a MITM
		 * hid its -PLUS; with -PLUS in plain sight we just do not
		 * bind ("n").
		 */
		choice.binding = SASL_CHANNEL_BINDING_NONE;
		choice.gs2_flag = !offers_plus(offer) && usable != 0
					  ? SASL_GS2_FLAG_Y
					  : SASL_GS2_FLAG_N;
	}
	*ret_choice = choice;
	return true;
}

const char *sasl_choice_gs2_flag_to_string(const SaslChoice *choice)
{
	g_return_val_if_fail(choice != NULL, "");

	switch (choice->gs2_flag) {
	case SASL_GS2_FLAG_P:
		switch (choice->binding) {
		case SASL_CHANNEL_BINDING_TLS_EXPORTER:
			return "p=tls-exporter";
		case SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT:
			return "p=tls-server-end-point";
		case SASL_CHANNEL_BINDING_NONE:
			return "p=?";
		}
		return "p=?";
	case SASL_GS2_FLAG_Y:
		return "y";
	case SASL_GS2_FLAG_N:
		return "n";
	}
	return "";
}
