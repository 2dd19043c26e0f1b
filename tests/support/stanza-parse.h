/* SPDX-License-Identifier: MIT */
/*
 * One XML element as a Stanza, through the real stream reader, for tests
 * that feed the core stanzas (the reader resolves namespaces exactly as it
 * does on the wire).
 */
#pragma once

#include "core/stanza.h"

/*
 * Parses xml, one complete element, as a top-level child of a jabber:client
 * stream; fails the running check test if it is not one. Transfer full.
 */
Stanza *test_parse_stanza(const char *xml);
