/* SPDX-License-Identifier: MIT */
/*
 * What --debug may print. SEND:/RECV: lines go only through these, which
 * replace SASL payloads (<auth/>, <response/>, <challenge/>, <success/> in
 * urn:ietf:params:xml:ns:xmpp-sasl) and any <password/> text with
 * "[redacted]".
 */
#pragma once

#include "core/stanza.h"

/* Serialized, redacted copy. Transfer full. */
char *redact_log_stanza(const Stanza *stanza);
