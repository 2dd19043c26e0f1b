/* SPDX-License-Identifier: MIT */
/*
 * Entity capabilities (XEP-0115) and the disco#info data they hash
 * (XEP-0030 identities and features, XEP-0128 extended forms), without I/O:
 * the verification string (§5.1), checking a received disco#info result
 * against a claimed ver (§5.4), and our own description, <c/> element and
 * disco#info answer, all built from one feature list so the ver we send is
 * always the hash of what we answer.
 *
 * Everything that reads peer input reports a GError in CAPS_ERROR rather
 * than asserting, and every peer-controlled count and string is capped.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/stanza.h"

#define NS_CAPS "http://jabber.org/protocol/caps"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_DATA_FORMS "jabber:x:data"
#define NS_PING "urn:xmpp:ping"
#define NS_IDLE_FEATURE "urn:xmpp:idle:1"

/* Caps on a peer's disco#info (STYLE.md §3); past them it is ill-formed. */
#define CAPS_MAX_IDENTITIES 32u
#define CAPS_MAX_FEATURES 512u
#define CAPS_MAX_FORMS 16u
#define CAPS_MAX_FIELDS 64u
#define CAPS_MAX_VALUES 64u
#define CAPS_MAX_STRING_BYTES 1024u

#define CAPS_ERROR (caps_error_quark())
GQuark caps_error_quark(void);

typedef enum {
	/* §5.4 3.3-3.5, a missing attribute, a cap exceeded, a '<'. */
	CAPS_ERROR_ILL_FORMED,
	/* The reconstructed ver differs from the claimed one (§5.4 3.9). */
	CAPS_ERROR_MISMATCH,
	/* A hash we do not implement, or none (legacy caps, §5.4 1-2). */
	CAPS_ERROR_UNSUPPORTED_HASH,
	/* A disco#info query for a node we do not have (XEP-0030 §3.1):
	 * the session answers <item-not-found/>. */
	CAPS_ERROR_ITEM_NOT_FOUND,
} CapsError;

typedef enum {
	CAPS_HASH_SHA1,
	CAPS_HASH_SHA256,
	CAPS_HASH_SHA384,
	CAPS_HASH_SHA512,
} CapsHash;

/* IANA Hash Function Textual Names ("sha-1", …): bool, *ret only on
 * success. md5 is refused: it would let a peer poison the cache. */
bool caps_hash_from_string(const char *name, CapsHash *ret_hash);
/* Transfer none, static. */
const char *caps_hash_to_string(CapsHash hash);

/* One disco identity (XEP-0030 §3.1); lang and name "" when absent. */
typedef struct {
	const char *category;
	const char *type;
	const char *lang;
	const char *name;
} CapsIdentity;

/*
 * A disco#info description: identities, features and extended forms
 * (only forms with a hidden FORM_TYPE are kept: §5.4 3.6). Strings are
 * copied in. Order of addition does not matter: the hash sorts.
 */
typedef struct _CapsInfo CapsInfo;

CapsInfo *caps_info_new(void);
void caps_info_free(CapsInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CapsInfo, caps_info_free)

/* lang and name may be NULL (= ""). */
void caps_info_add_identity(CapsInfo *info, const char *category,
			    const char *type, const char *lang,
			    const char *name);
void caps_info_add_feature(CapsInfo *info, const char *var);
/* Starts a form; later caps_info_add_field calls go to it. */
void caps_info_add_form(CapsInfo *info, const char *form_type);
/* values: n_values strings. Needs a form (programmer error otherwise). */
void caps_info_add_field(CapsInfo *info, const char *var,
			 const char *const *values, size_t n_values);

/* Accessors; index < the count. Transfer none, valid while info lives and
 * is not changed. Identities and features in the order added. */
size_t caps_info_get_n_identities(const CapsInfo *info);
CapsIdentity caps_info_get_identity(const CapsInfo *info, size_t index);
size_t caps_info_get_n_features(const CapsInfo *info);
const char *caps_info_get_feature(const CapsInfo *info, size_t index);
bool caps_info_has_feature(const CapsInfo *info, const char *var);
size_t caps_info_get_n_forms(const CapsInfo *info);
const char *caps_info_get_form_type(const CapsInfo *info, size_t form);
size_t caps_info_get_n_fields(const CapsInfo *info, size_t form);
/* ret_values: NULL-terminated, transfer none. Returns the var. */
const char *caps_info_get_field(const CapsInfo *info, size_t form, size_t field,
				const char *const **ret_values);

/*
 * The identity that says what the client is (GetContactClients' type and
 * name): the first category 'client' identity in §5.1 order preferring no
 * xml:lang, then "en", then any; else the first identity of any category.
 * false when there is none. Borrowed strings, as the accessors.
 */
bool caps_info_get_main_identity(const CapsInfo *info, CapsIdentity *ret);
/* The features sorted (i;octet), NULL-terminated. Transfer full. */
char **caps_info_dup_features_sorted(const CapsInfo *info);

/*
 * The §5.4 3.3-3.5 checks (no duplicate identity, feature, FORM_TYPE) plus
 * our caps, non-empty category/type/var, and no '<' in any string: §5.1
 * joins strings with '<', so a '<' inside one lets a peer craft another
 * description with the same S, i.e. poison the cache (XEP-0390 §1).
 */
bool caps_info_validate(const CapsInfo *info, GError **error);

/* The §5.1 input S (UTF-8), sorted with i;octet. Transfer full. For tests
 * and the cache. */
char *caps_info_dup_hash_input(const CapsInfo *info);
/* The verification string: base64(hash(S)). Transfer full. */
char *caps_info_compute_ver(const CapsInfo *info, CapsHash hash);

/*
 * Reads a disco#info <query/> (a result's payload) into a new CapsInfo and
 * validates it. Forms whose FORM_TYPE is missing or not hidden are
 * skipped (§5.4 3.6); a FORM_TYPE with two different values is
 * ill-formed (§5.4 3.5). Transfer full; NULL with CAPS_ERROR_ILL_FORMED.
 */
CapsInfo *caps_info_parse(const Stanza *query, GError **error);

/*
 * Lenient look-ups in any disco#info <query/> (NULL-safe), for results
 * that are not hashed, such as our server's or our account's: does it list
 * feature var (e.g. NS_BLOCKING for XEP-0191 §2), or an identity of
 * category/type (e.g. pubsub/pep)? Duplicates do not matter here.
 */
bool caps_disco_has_feature(const Stanza *query, const char *var);
bool caps_disco_has_identity(const Stanza *query, const char *category,
			     const char *type);

/*
 * §5.4 step 3: query is the disco#info <query/> of the result; hash and
 * ver as the <c/> said. On success *ret_info (may be NULL) gets the
 * verified description (transfer full). Errors: UNSUPPORTED_HASH,
 * ILL_FORMED, MISMATCH.
 */
bool caps_verify(const Stanza *query, const char *hash, const char *ver,
		 CapsInfo **ret_info, GError **error);

/* A disco#info <query/> holding info (forms as type='result' with a
 * hidden FORM_TYPE), with node when non-NULL. Transfer full. */
Stanza *caps_info_build_query(const CapsInfo *info, const char *node);

/* ---- a <c/> in a presence ----------------------------------------------
 */

typedef struct {
	char *node;
	char *hash; /* NULL: legacy caps (no hash attribute) */
	char *ver;
} CapsAnnouncement;

void caps_announcement_clear(CapsAnnouncement *ann);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CapsAnnouncement, caps_announcement_clear)

/*
 * The <c xmlns='http://jabber.org/protocol/caps'/> child of presence.
 * false (no error set) when there is none; false with ILL_FORMED when node
 * or ver is missing, empty, over CAPS_MAX_STRING_BYTES or has a '#'
 * (XEP-0115 §4: '#' joins node and ver). A missing hash is not an error
 * here: ret->hash is NULL and the caller ignores it (legacy, §5.4 1).
 */
bool caps_announcement_parse(const Stanza *presence, CapsAnnouncement *ret,
			     GError **error);

/* The same checks without copying, for the presence path: node, hash
 * (NULL for legacy caps) and ver borrowed from presence (transfer none,
 * valid while it lives); written only on success. */
bool caps_announcement_peek(const Stanza *presence, const char **ret_node,
			    const char **ret_hash, const char **ret_ver,
			    GError **error);
/* The same checks on the node and ver of a <c/> already found (the
 * reader's presence record, presence-record.h). */
bool caps_announcement_check(const char *node, const char *ver, GError **error);

/* <query xmlns='disco#info' node='NODE#VER'/>, the payload of our get to a
 * contact (§6.2). Transfer full. */
Stanza *caps_build_disco_info_query(const char *node, const char *ver);

/* ---- our own capabilities -----------------------------------------------
 */

typedef struct _CapsOwn CapsOwn;

/*
 * Our description: identity client/pc "presenced" and the features the
 * daemon implements, from the one table in caps.c; with_blocking adds
 * NS_BLOCKING of blocking.h (the session uses XEP-0191). node: the caps node
 * (the project's URL), copied; non-empty, no '#'. The ver is computed here,
 * once, from that same description. Transfer full.
 */
CapsOwn *caps_own_new(const char *node, bool with_blocking);
void caps_own_free(CapsOwn *own);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CapsOwn, caps_own_free)

/* Transfer none, valid while own lives. */
const char *caps_own_get_node(const CapsOwn *own);
const char *caps_own_get_ver(const CapsOwn *own);
const CapsInfo *caps_own_get_info(const CapsOwn *own);

/* <c xmlns=caps hash='sha-1' node ver/> for every available presence we
 * send (§4). Transfer full. */
Stanza *caps_own_build_c(const CapsOwn *own);

/*
 * The answer to a disco#info get whose payload is query: with no node, or
 * node == "NODE#VER" of ours (§6.2), our <query/> result payload (echoing
 * the node). Any other node: NULL with CAPS_ERROR_ITEM_NOT_FOUND.
 * Transfer full.
 */
Stanza *caps_own_answer_disco_info(const CapsOwn *own, const Stanza *query,
				   GError **error);

/* The answer to a disco#items get: an empty <query/> echoing the node (we
 * have no items). Transfer full. */
Stanza *caps_own_answer_disco_items(const Stanza *query);
