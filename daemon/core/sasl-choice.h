/* SPDX-License-Identifier: MIT */
/*
 * Which SASL mechanism and channel binding to use: reads what the server
 * advertised in <stream:features/> (RFC 6120 §6.4.1 mechanisms, XEP-0440
 * channel-binding types) and picks the strongest combination that the
 * server really supports and we can compute, with the gs2 flag that tells
 * the server what we did (RFC 5802 §6). Pure: no I/O, no TLS calls; the
 * caller says what TLS gave it.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "core/sasl-scram.h"
#include "core/stanza.h"
#include "core/tls-session.h"

/* Caps on what we keep from the features (peer-controlled). Larger lists
 * are cut, which makes a XEP-0474 hash over them fail: no real server
 * comes near these. */
#define SASL_CHOICE_MAX_MECHANISMS 32u
#define SASL_CHOICE_MAX_BINDINGS 16u
#define SASL_CHOICE_MAX_NAME_BYTES 256u

/*
 * Fills ret_offer from the <stream:features/> element (NULL: nothing
 * offered): the <mechanism/> texts of <mechanisms
 * xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/> (surrounding whitespace
 * removed) and, if <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/> is
 * present, its <channel-binding type='…'/> values, unknown ones kept in
 * the list (XEP-0474 hashes them) but not in binding_types. Never fails;
 * the lists are never NULL afterwards. Clear with sasl_server_offer_clear().
 */
void sasl_choice_parse_features(const Stanza *features,
				SaslServerOffer *ret_offer);
/* The same for SASL2 (XEP-0388 §2.1): the <mechanism/> texts of
 * <authentication xmlns='urn:xmpp:sasl:2'/>, XEP-0440 as above. */
void sasl_choice_parse_sasl2_features(const Stanza *features,
				      SaslServerOffer *ret_offer);

typedef struct {
	const SaslServerOffer *offer; /* borrowed; required */
	bool tls_active;
	TlsSessionVersion tls_version; /* UNKNOWN without TLS */
	/* SASL_CHANNEL_BINDING_BIT of each binding we can compute on this
	 * connection (tls_session_get_channel_binding() on TLS 1.3,
	 * tls_session_get_server_end_point() succeeded). */
	unsigned computable;
	/* SCRAM has authenticated this account before: never PLAIN. */
	bool scram_worked_before;
} SaslChoiceInput;

typedef struct {
	SaslMechanism mechanism;
	SaslChannelBinding binding; /* NONE unless mechanism is -PLUS */
	SaslGs2Flag gs2_flag;	    /* P exactly when binding */
} SaslChoice;

/*
 * Strongest first: SCRAM-SHA-512-PLUS, -256-PLUS, -1-PLUS, SCRAM-SHA-512,
 * -256, -1, PLAIN. A -PLUS mechanism only with a binding type the server
 * lists in XEP-0440 and we can compute: tls-exporter (TLS 1.3 only, RFC
 * 9266), preferred, else tls-server-end-point (RFC 5929); no XEP-0440
 * element: no -PLUS. PLAIN only inside TLS and only if SCRAM never worked
 * for the account.
 *
 * gs2 flag: P when binding; N when the server offers some SCRAM-*-PLUS
 * but we do not bind (so the server does not take "y" for a downgrade,
 * XEP-0474 §7 rule 6); Y when it offers no -PLUS and we could have bound
 * (TLS up and computable not empty, tls-exporter counting on 1.3 only);
 * N otherwise and for PLAIN.
 *
 * On success fills ret_choice. Fails with SASL_ERROR_PLAIN_REFUSED when
 * only PLAIN is left and scram_worked_before (a downgrade: say so), and
 * SASL_ERROR_NO_MECHANISM when nothing we accept is offered.
 */
bool sasl_choice_select(const SaslChoiceInput *input, SaslChoice *ret_choice,
			GError **error);

/* "p=tls-exporter", "y", "n", for status and logs. Transfer none. */
const char *sasl_choice_gs2_flag_to_string(const SaslChoice *choice);
