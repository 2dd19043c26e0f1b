/* SPDX-License-Identifier: MIT */
/*
 * Jabber IDs (RFC 7622): localpart@domainpart/resourcepart.
 *
 * Parsing validates and normalizes: UTF-8, each part 1..1023 bytes, no
 * forbidden localpart characters (" & ' / : < > @ and controls/spaces), a
 * domainpart that is a hostname (labels of LDH/UTF-8, 1..63 bytes, trailing
 * dot removed), an IPv4 address, or a bracketed IPv6 address. localpart and
 * domainpart are case-folded and NFC-normalized (an approximation of the
 * PRECIS profiles without an IDNA library); the resourcepart is NFC only.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define JID_ERROR (jid_error_quark())
GQuark jid_error_quark(void);

typedef enum {
	JID_ERROR_INVALID, /* message says which part and why */
} JidError;

typedef struct _Jid Jid;

/* Parses and normalizes. NULL with error (message says why) if invalid.
 * Transfer full. */
Jid *jid_parse(const char *str, GError **error);
void jid_free(Jid *jid);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Jid, jid_free)
/*
 * Frees jid, handing its full and bare strings and its resource (NULL when
 * absent) to the caller (transfer full): for one that keeps the strings,
 * not the Jid (each incoming presence), without copying them.
 */
void jid_free_to_strings(Jid *jid, char **ret_full, char **ret_bare,
			 char **ret_resource);

/* Parts; NULL when absent (domain is never NULL). Transfer none. */
const char *jid_get_local(const Jid *jid);
const char *jid_get_domain(const Jid *jid);
const char *jid_get_resource(const Jid *jid);
/* Normalized strings: transfer none, valid while jid lives. */
const char *jid_get_bare(const Jid *jid);
const char *jid_get_full(const Jid *jid);
bool jid_is_bare(const Jid *jid);

/* Comparison of normalized forms. */
bool jid_equal(const Jid *a, const Jid *b);
bool jid_bare_equal(const Jid *a, const Jid *b);

/* Convenience for strings off the wire: normalized bare JID of str, or NULL
 * (with error) if str is not a valid JID. Transfer full. */
char *jid_dup_bare_from_string(const char *str, GError **error);
