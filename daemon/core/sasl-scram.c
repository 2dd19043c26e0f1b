/* SPDX-License-Identifier: MIT */
/*
 * SASL client side of SCRAM (RFC 5802, RFC 7677; SHA-512 as RFC 7677 does
 * SHA-256) with tls-exporter (RFC 9266) or tls-server-end-point (RFC 5929)
 * channel binding and XEP-0474 downgrade protection, and PLAIN (RFC 4616).
 *
 * Everything a server sends is treated as hostile: attributes are parsed
 * strictly in the order RFC 5802 §7 gives, base64 is validated rather than
 * skipped over, the iteration count is bounded on both sides, and the
 * server signature is compared in constant time.
 */
#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "sasl-scram.h"

G_DEFINE_QUARK(presenced - sasl - error - quark, sasl_error)

/* Largest digest we use (SHA-512). */
#define SCRAM_MAX_HASH_LEN 64
/* Raw bytes of a generated client nonce (base64: 32 characters). */
#define SCRAM_NONCE_BYTES 24
/* Server nonce part we accept; RFC 5802 sets no limit, we do. */
#define SCRAM_MAX_SERVER_NONCE 1024
/* Salt bytes we accept from a server. */
#define SCRAM_MAX_SALT 1024

typedef enum {
	SCRAM_STATE_INITIAL,	/* nothing sent yet */
	SCRAM_STATE_FIRST_SENT, /* client-first (or PLAIN) sent */
	SCRAM_STATE_FINAL_SENT, /* client-final sent, server-final due
				 */
	SCRAM_STATE_VERIFIED,	/* server proved it knows the password */
	SCRAM_STATE_FAILED,	/* any error: the exchange is over */
} ScramState;

struct _SaslClient {
	SaslMechanism mech;
	ScramState state;
	char *username;	    /* as given: PLAIN's authcid */
	char *escaped_user; /* RFC 5802 §5.1 saslname */
	char *password;	    /* owned, wiped on free */
	SaslChannelBinding binding;
	GBytes *channel_binding;
	char *gs2_header;
	/* XEP-0474: copies of what the server advertised; NULL: no check. */
	SaslServerOffer *offer;
	bool downgrade_checked;
	char *client_nonce;
	char *client_first_bare;
	gnutls_digest_algorithm_t digest;
	gnutls_mac_algorithm_t mac;
	size_t hash_len;
	guint8 server_signature[SCRAM_MAX_HASH_LEN]; /* expected v= */
};

static const char *const mechanism_names[] = {
	[SASL_MECHANISM_NONE] = "",
	[SASL_MECHANISM_PLAIN] = "PLAIN",
	[SASL_MECHANISM_SCRAM_SHA_1] = "SCRAM-SHA-1",
	[SASL_MECHANISM_SCRAM_SHA_256] = "SCRAM-SHA-256",
	[SASL_MECHANISM_SCRAM_SHA_512] = "SCRAM-SHA-512",
	[SASL_MECHANISM_SCRAM_SHA_1_PLUS] = "SCRAM-SHA-1-PLUS",
	[SASL_MECHANISM_SCRAM_SHA_256_PLUS] = "SCRAM-SHA-256-PLUS",
	[SASL_MECHANISM_SCRAM_SHA_512_PLUS] = "SCRAM-SHA-512-PLUS",
};

static const char *const binding_names[] = {
	[SASL_CHANNEL_BINDING_NONE] = "",
	[SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT] = "tls-server-end-point",
	[SASL_CHANNEL_BINDING_TLS_EXPORTER] = "tls-exporter",
};

const char *sasl_channel_binding_to_string(SaslChannelBinding binding)
{
	if ((size_t)binding >= G_N_ELEMENTS(binding_names))
		return "";
	return binding_names[binding];
}

SaslMechanism sasl_mechanism_from_string(const char *name)
{
	if (name == NULL)
		return SASL_MECHANISM_NONE;
	for (size_t m = SASL_MECHANISM_PLAIN; m < G_N_ELEMENTS(mechanism_names);
	     m++) {
		if (strcmp(name, mechanism_names[m]) == 0)
			return (SaslMechanism)m;
	}
	return SASL_MECHANISM_NONE;
}

void sasl_server_offer_clear(SaslServerOffer *offer)
{
	if (offer == NULL)
		return;
	g_strfreev(offer->mechanisms);
	g_strfreev(offer->bindings);
	memset(offer, 0, sizeof(*offer));
}

const char *sasl_mechanism_to_string(SaslMechanism mech)
{
	if ((size_t)mech >= G_N_ELEMENTS(mechanism_names))
		return "";
	return mechanism_names[mech];
}

bool sasl_mechanism_is_plus(SaslMechanism mech)
{
	switch (mech) {
	case SASL_MECHANISM_SCRAM_SHA_1_PLUS:
	case SASL_MECHANISM_SCRAM_SHA_256_PLUS:
	case SASL_MECHANISM_SCRAM_SHA_512_PLUS:
		return true;
	case SASL_MECHANISM_NONE:
	case SASL_MECHANISM_PLAIN:
	case SASL_MECHANISM_SCRAM_SHA_1:
	case SASL_MECHANISM_SCRAM_SHA_256:
	case SASL_MECHANISM_SCRAM_SHA_512:
		return false;
	}
	return false;
}

bool sasl_mechanism_is_scram(SaslMechanism mech)
{
	switch (mech) {
	case SASL_MECHANISM_SCRAM_SHA_1:
	case SASL_MECHANISM_SCRAM_SHA_256:
	case SASL_MECHANISM_SCRAM_SHA_512:
	case SASL_MECHANISM_SCRAM_SHA_1_PLUS:
	case SASL_MECHANISM_SCRAM_SHA_256_PLUS:
	case SASL_MECHANISM_SCRAM_SHA_512_PLUS:
		return true;
	case SASL_MECHANISM_NONE:
	case SASL_MECHANISM_PLAIN:
		return false;
	}
	return false;
}

/* The SCRAM hash (RFC 5802 §2.2 H / HMAC); false for PLAIN and NONE. */
static bool mechanism_hash(SaslMechanism mech,
			   gnutls_digest_algorithm_t *ret_digest,
			   gnutls_mac_algorithm_t *ret_mac, size_t *ret_len)
{
	switch (mech) {
	case SASL_MECHANISM_SCRAM_SHA_1:
	case SASL_MECHANISM_SCRAM_SHA_1_PLUS:
		*ret_digest = GNUTLS_DIG_SHA1;
		*ret_mac = GNUTLS_MAC_SHA1;
		*ret_len = 20;
		return true;
	case SASL_MECHANISM_SCRAM_SHA_256:
	case SASL_MECHANISM_SCRAM_SHA_256_PLUS:
		*ret_digest = GNUTLS_DIG_SHA256;
		*ret_mac = GNUTLS_MAC_SHA256;
		*ret_len = 32;
		return true;
	case SASL_MECHANISM_SCRAM_SHA_512:
	case SASL_MECHANISM_SCRAM_SHA_512_PLUS:
		*ret_digest = GNUTLS_DIG_SHA512;
		*ret_mac = GNUTLS_MAC_SHA512;
		*ret_len = 64;
		return true;
	case SASL_MECHANISM_NONE:
	case SASL_MECHANISM_PLAIN:
		return false;
	}
	return false;
}

/* RFC 5802 §5.1: saslname escapes ',' and '='. */
static char *escape_username(const char *username)
{
	GString *s = g_string_sized_new(strlen(username) + 8);

	for (const char *p = username; *p != '\0'; p++) {
		if (*p == ',')
			g_string_append(s, "=2C");
		else if (*p == '=')
			g_string_append(s, "=3D");
		else
			g_string_append_c(s, *p);
	}
	return g_string_free(s, false);
}

/* RFC 3454 C.1.2: non-ASCII space characters, mapped to SPACE. */
static bool is_non_ascii_space(gunichar c)
{
	return c == 0x00A0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200B) ||
	       c == 0x202F || c == 0x205F || c == 0x3000;
}

/* RFC 3454 B.1: commonly mapped to nothing. */
static bool is_mapped_to_nothing(gunichar c)
{
	return c == 0x00AD || c == 0x034F || c == 0x1806 ||
	       (c >= 0x180B && c <= 0x180D) || (c >= 0x200C && c <= 0x200D) ||
	       c == 0x2060 || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF;
}

/*
 * RFC 5802 §2.2 Hi(Normalize(str)): SASLprep (RFC 4013) mapping and NFKC,
 * which is what servers apply to the stored password. ASCII is left as is
 * (SASLprep only prohibits controls there, which the server judges). The
 * prohibition and bidi tables are not applied: a password they would reject
 * is simply sent as mapped and the server refuses it.
 */
static char *normalize_password(const char *password)
{
	bool ascii = true;

	for (const char *p = password; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80) {
			ascii = false;
			break;
		}
	}
	if (ascii || !g_utf8_validate(password, -1, NULL))
		return g_strdup(password);

	GString *mapped = g_string_sized_new(strlen(password));
	for (const char *p = password; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (is_non_ascii_space(c))
			g_string_append_c(mapped, ' ');
		else if (!is_mapped_to_nothing(c))
			g_string_append_unichar(mapped, c);
	}
	char *normalized = g_utf8_normalize(mapped->str, -1, G_NORMALIZE_NFKC);
	gnutls_memset(mapped->str, 0, mapped->len);
	g_string_free(mapped, true);
	return normalized != NULL ? normalized : g_strdup(password);
}

/* A GBytes whose memory is wiped when the last reference goes. */
typedef struct {
	size_t len;
	guint8 data[];
} WipedBuffer;

static void wiped_buffer_free(gpointer p)
{
	WipedBuffer *b = p;

	gnutls_memset(b->data, 0, b->len);
	g_free(b);
}

static void wipe_string(char *s)
{
	if (s != NULL) {
		gnutls_memset(s, 0, strlen(s));
		g_free(s);
	}
}

static SaslServerOffer *offer_copy(const SaslServerOffer *offer)
{
	SaslServerOffer *copy = g_new0(SaslServerOffer, 1);
	static const char *const empty[] = {NULL};

	copy->mechanisms = g_strdupv(
		offer->mechanisms != NULL ? offer->mechanisms : (char **)empty);
	copy->bindings_advertised = offer->bindings_advertised;
	copy->bindings = g_strdupv(offer->bindings != NULL ? offer->bindings
							   : (char **)empty);
	copy->binding_types = offer->binding_types;
	return copy;
}

static void offer_free(SaslServerOffer *offer)
{
	sasl_server_offer_clear(offer);
	g_free(offer);
}

SaslClient *sasl_client_new_with_options(const SaslClientOptions *o)
{
	g_return_val_if_fail(o != NULL, NULL);

	SaslMechanism mech = o->mechanism;
	bool plus = sasl_mechanism_is_plus(mech);
	g_return_val_if_fail(mech != SASL_MECHANISM_NONE, NULL);
	g_return_val_if_fail((size_t)mech < G_N_ELEMENTS(mechanism_names),
			     NULL);
	g_return_val_if_fail(o->username != NULL, NULL);
	g_return_val_if_fail(o->password != NULL, NULL);
	g_return_val_if_fail((unsigned)o->gs2_flag <= SASL_GS2_FLAG_P, NULL);
	/* -PLUS exactly with p=TYPE and its data (RFC 5802 §6). */
	g_return_val_if_fail(plus == (o->gs2_flag == SASL_GS2_FLAG_P), NULL);
	g_return_val_if_fail(
		!plus || (o->binding != SASL_CHANNEL_BINDING_NONE &&
			  (size_t)o->binding < G_N_ELEMENTS(binding_names) &&
			  o->binding_data != NULL &&
			  g_bytes_get_size(o->binding_data) > 0),
		NULL);
	g_return_val_if_fail(plus || (o->binding == SASL_CHANNEL_BINDING_NONE &&
				      o->binding_data == NULL),
			     NULL);
	g_return_val_if_fail(o->client_nonce == NULL ||
				     (o->client_nonce[0] != '\0' &&
				      strchr(o->client_nonce, ',') == NULL),
			     NULL);

	SaslClient *client = g_new0(SaslClient, 1);
	client->mech = mech;
	client->state = SCRAM_STATE_INITIAL;
	client->username = g_strdup(o->username);

	if (mech == SASL_MECHANISM_PLAIN) {
		/* RFC 4616: the server prepares the password. */
		client->password = g_strdup(o->password);
		return client;
	}

	client->password = normalize_password(o->password);
	client->escaped_user = escape_username(o->username);
	if (!mechanism_hash(mech, &client->digest, &client->mac,
			    &client->hash_len))
		g_assert_not_reached();
	if (o->offer != NULL)
		client->offer = offer_copy(o->offer);

	/*
	 * RFC 5802 §6, RFC 5929 §4, RFC 9266 §3: "p=TYPE" when binding; "y"
	 * when we could bind but the server did not offer -PLUS (a downgrade
	 * the server then detects); "n" otherwise.
	 */
	switch (o->gs2_flag) {
	case SASL_GS2_FLAG_P:
		client->binding = o->binding;
		client->channel_binding = g_bytes_ref(o->binding_data);
		client->gs2_header = g_strdup_printf(
			"p=%s,,", sasl_channel_binding_to_string(o->binding));
		break;
	case SASL_GS2_FLAG_Y:
		client->gs2_header = g_strdup("y,,");
		break;
	case SASL_GS2_FLAG_N:
		client->gs2_header = g_strdup("n,,");
		break;
	}

	if (o->client_nonce != NULL) {
		client->client_nonce = g_strdup(o->client_nonce);
	} else {
		guint8 raw[SCRAM_NONCE_BYTES];

		/* gnutls_rnd cannot fail once the library is initialised. */
		if (gnutls_rnd(GNUTLS_RND_NONCE, raw, sizeof(raw)) < 0)
			g_error("gnutls_rnd failed");
		client->client_nonce = g_base64_encode(raw, sizeof(raw));
	}
	return client;
}

void sasl_client_free(SaslClient *client)
{
	if (client == NULL)
		return;
	wipe_string(client->password);
	g_free(client->username);
	g_free(client->escaped_user);
	g_clear_pointer(&client->channel_binding, g_bytes_unref);
	g_clear_pointer(&client->offer, offer_free);
	g_free(client->gs2_header);
	g_free(client->client_nonce);
	g_free(client->client_first_bare);
	gnutls_memset(client->server_signature, 0,
		      sizeof(client->server_signature));
	g_free(client);
}

SaslMechanism sasl_client_get_mechanism(const SaslClient *client)
{
	g_return_val_if_fail(client != NULL, SASL_MECHANISM_NONE);
	return client->mech;
}

SaslChannelBinding sasl_client_get_channel_binding(const SaslClient *client)
{
	g_return_val_if_fail(client != NULL, SASL_CHANNEL_BINDING_NONE);
	return client->binding;
}

bool sasl_client_is_downgrade_checked(const SaslClient *client)
{
	g_return_val_if_fail(client != NULL, false);
	return client->downgrade_checked;
}

static int compare_octets(gconstpointer a, gconstpointer b)
{
	/* RFC 4790 §9.3 i;octet: strcmp compares as unsigned char. */
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts a copy of the list and appends it joined by sep. */
static void append_sorted(GString *s, char *const *list, char sep)
{
	g_autoptr(GPtrArray) sorted = g_ptr_array_new();

	for (char *const *p = list; p != NULL && *p != NULL; p++)
		g_ptr_array_add(sorted, *p);
	g_ptr_array_sort(sorted, compare_octets);
	for (guint i = 0; i < sorted->len; i++) {
		if (i > 0)
			g_string_append_c(s, sep);
		g_string_append(s, g_ptr_array_index(sorted, i));
	}
}

char *sasl_downgrade_hash(SaslMechanism mech, const SaslServerOffer *offer,
			  bool legacy_v03)
{
	gnutls_digest_algorithm_t digest;
	gnutls_mac_algorithm_t mac;
	size_t len = 0;
	guint8 hash[SCRAM_MAX_HASH_LEN];

	g_return_val_if_fail(offer != NULL, NULL);
	if (!mechanism_hash(mech, &digest, &mac, &len))
		return NULL;

	/* XEP-0474 §4.1 (0.4+: %x1E, %x1F; 0.3: ',', '|'). */
	const char item_sep = legacy_v03 ? ',' : '\x1e';
	const char list_sep = legacy_v03 ? '|' : '\x1f';
	g_autoptr(GString) s = g_string_new(NULL);
	append_sorted(s, offer->mechanisms, item_sep);
	if (offer->bindings_advertised) {
		g_string_append_c(s, list_sep);
		append_sorted(s, offer->bindings, item_sep);
	}
	if (gnutls_hash_fast(digest, s->str, s->len, hash) < 0)
		return NULL;
	return g_base64_encode(hash, len);
}

GBytes *sasl_client_initial_response(SaslClient *client)
{
	g_return_val_if_fail(client != NULL, NULL);
	g_return_val_if_fail(client->state == SCRAM_STATE_INITIAL, NULL);

	client->state = SCRAM_STATE_FIRST_SENT;

	if (client->mech == SASL_MECHANISM_PLAIN) {
		/* RFC 4616 §2: authzid NUL authcid NUL passwd; no authzid. */
		size_t ulen = strlen(client->username);
		size_t plen = strlen(client->password);
		size_t len = 2 + ulen + plen;
		WipedBuffer *msg = g_malloc(sizeof(WipedBuffer) + len);

		msg->len = len;
		msg->data[0] = '\0';
		memcpy(msg->data + 1, client->username, ulen);
		msg->data[1 + ulen] = '\0';
		memcpy(msg->data + 2 + ulen, client->password, plen);
		/* It carries the password: wiped when the caller drops it. */
		return g_bytes_new_with_free_func(msg->data, len,
						  wiped_buffer_free, msg);
	}

	/* RFC 5802 §7: client-first-message-bare = username "," nonce */
	client->client_first_bare = g_strdup_printf(
		"n=%s,r=%s", client->escaped_user, client->client_nonce);
	char *first = g_strconcat(client->gs2_header, client->client_first_bare,
				  NULL);
	return g_bytes_new_take(first, strlen(first));
}

/* RFC 4648 §4 base64 with padding, nothing else tolerated. */
static guint8 *base64_decode_strict(const char *s, size_t len, size_t *ret_len)
{
	if (len == 0 || len % 4 != 0)
		return NULL;

	size_t pad = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '=') {
			/* Only the last one or two characters may pad. */
			if (i < len - 2)
				return NULL;
			pad++;
		} else if (pad > 0) {
			return NULL;
		} else if (!g_ascii_isalnum(c) && c != '+' && c != '/') {
			return NULL;
		}
	}

	g_autofree char *copy = g_strndup(s, len);
	gsize out_len = 0;
	guint8 *out = g_base64_decode(copy, &out_len);
	if (out_len == 0) {
		g_free(out);
		return NULL;
	}
	*ret_len = out_len;
	return out;
}

/* A server string quoted in an error message: printable ASCII, bounded. */
static char *sanitize(const char *s, size_t len)
{
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < len && out->len < 128; i++)
		g_string_append_c(out, g_ascii_isprint(s[i]) ? s[i] : '?');
	return g_string_free(out, false);
}

static void fail(SaslClient *client, GError **error, SaslError code,
		 const char *format, ...) G_GNUC_PRINTF(4, 5);

static void fail(SaslClient *client, GError **error, SaslError code,
		 const char *format, ...)
{
	va_list ap;

	client->state = SCRAM_STATE_FAILED;
	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error_literal(error, SASL_ERROR, code, message);
}

/*
 * Splits a SCRAM message into its attributes, each "x=value" with x a letter
 * (RFC 5802 §7). NULL if the message is empty, contains a NUL or an
 * attribute is malformed.
 */
static char **split_attributes(const guint8 *data, size_t len)
{
	if (len == 0 || memchr(data, '\0', len) != NULL)
		return NULL;

	g_autofree char *text = g_strndup((const char *)data, len);
	g_auto(GStrv) attrs = g_strsplit(text, ",", -1);
	for (char **a = attrs; *a != NULL; a++) {
		if (!g_ascii_isalpha((*a)[0]) || (*a)[1] != '=')
			return NULL;
	}
	return g_steal_pointer(&attrs);
}

static bool parse_iterations(const char *s, unsigned *ret_iterations)
{
	guint64 value = 0;
	size_t n = strlen(s);

	/* Ten digits cannot overflow 64 bits; more is out of range anyway. */
	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		value = value * 10 + (guint64)(s[i] - '0');
	}
	if (value > G_MAXUINT)
		return false;
	*ret_iterations = (unsigned)value;
	return true;
}

static bool hmac(const SaslClient *client, const guint8 *key, size_t key_len,
		 const void *text, size_t text_len, guint8 *out)
{
	return gnutls_hmac_fast(client->mac, key, key_len, text, text_len,
				out) == 0;
}

/*
 * XEP-0474 §4.2: the server's hash of what it advertised (h=, or d= from
 * version 0.3) in the extensions after i= must match what we received.
 * No hash: nothing to check (older servers). A hash we cannot reproduce,
 * malformed ones included, is a downgrade: the proof we are about to send
 * would cover the tampered lists, so stop before sending it.
 */
static bool check_downgrade(SaslClient *client, char **attrs, size_t n_attrs,
			    GError **error)
{
	const char *found[2] = {NULL, NULL}; /* h=, d= */

	for (size_t i = 3; i < n_attrs; i++) {
		size_t which;

		if (attrs[i][0] == 'h')
			which = 0;
		else if (attrs[i][0] == 'd')
			which = 1;
		else
			continue;
		if (found[which] != NULL) {
			fail(client, error, SASL_ERROR_BAD_CHALLENGE,
			     "The SCRAM server-first-message repeats the "
			     "%c= attribute",
			     attrs[i][0]);
			return false;
		}
		found[which] = attrs[i] + 2;
	}
	if (client->offer == NULL || (found[0] == NULL && found[1] == NULL))
		return true;

	for (size_t which = 0; which < 2; which++) {
		if (found[which] == NULL)
			continue;
		g_autofree char *expected =
			sasl_downgrade_hash(client->mech, client->offer, which);
		if (expected == NULL || strcmp(expected, found[which]) != 0) {
			fail(client, error, SASL_ERROR_DOWNGRADE,
			     "The server's list of SASL mechanisms and channel "
			     "bindings differs from what we received "
			     "(XEP-0474): someone tampered with the stream");
			return false;
		}
	}
	client->downgrade_checked = true;
	return true;
}

GBytes *sasl_client_step(SaslClient *client, const guint8 *challenge,
			 size_t len, GError **error)
{
	g_return_val_if_fail(client != NULL, NULL);
	g_return_val_if_fail(challenge != NULL || len == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!sasl_mechanism_is_scram(client->mech) ||
	    client->state != SCRAM_STATE_FIRST_SENT) {
		fail(client, error, SASL_ERROR_INVALID_STATE,
		     "Unexpected SASL challenge for %s",
		     sasl_mechanism_to_string(client->mech));
		return NULL;
	}

	g_auto(GStrv) attrs = split_attributes(challenge, len);
	if (attrs == NULL) {
		fail(client, error, SASL_ERROR_BAD_CHALLENGE,
		     "Malformed SCRAM server-first-message");
		return NULL;
	}

	size_t n_attrs = g_strv_length(attrs);
	if (n_attrs >= 1 && attrs[0][0] == 'e') {
		g_autofree char *why =
			sanitize(attrs[0] + 2, strlen(attrs[0] + 2));
		fail(client, error, SASL_ERROR_SERVER_ERROR,
		     "The server refused authentication: %s", why);
		return NULL;
	}
	/* RFC 5802 §5.1 "m": reserved; a client MUST fail if present. */
	if (n_attrs >= 1 && attrs[0][0] == 'm') {
		fail(client, error, SASL_ERROR_BAD_CHALLENGE,
		     "The server requires an unsupported SCRAM extension");
		return NULL;
	}
	/* server-first-message = nonce "," salt "," iteration-count [ext] */
	if (n_attrs < 3 || attrs[0][0] != 'r' || attrs[1][0] != 's' ||
	    attrs[2][0] != 'i') {
		fail(client, error, SASL_ERROR_BAD_CHALLENGE,
		     "Malformed SCRAM server-first-message: expected r=, s= "
		     "and i=");
		return NULL;
	}

	const char *nonce = attrs[0] + 2;
	size_t cn_len = strlen(client->client_nonce);
	size_t nonce_len = strlen(nonce);
	if (nonce_len <= cn_len ||
	    strncmp(nonce, client->client_nonce, cn_len) != 0) {
		fail(client, error, SASL_ERROR_BAD_NONCE,
		     "The SCRAM server nonce does not extend ours");
		return NULL;
	}
	/* RFC 5802 §7: printable ASCII except ','. */
	for (const char *p = nonce; *p != '\0'; p++) {
		if (*p < 0x21 || *p > 0x7e) {
			fail(client, error, SASL_ERROR_BAD_NONCE,
			     "The SCRAM server nonce has invalid characters");
			return NULL;
		}
	}
	if (nonce_len - cn_len > SCRAM_MAX_SERVER_NONCE) {
		fail(client, error, SASL_ERROR_BAD_NONCE,
		     "The SCRAM server nonce is too long");
		return NULL;
	}

	const char *salt_b64 = attrs[1] + 2;
	size_t salt_len = 0;
	g_autofree guint8 *salt =
		base64_decode_strict(salt_b64, strlen(salt_b64), &salt_len);
	if (salt == NULL || salt_len > SCRAM_MAX_SALT) {
		fail(client, error, SASL_ERROR_BAD_CHALLENGE,
		     "The SCRAM salt is missing or not valid base64");
		return NULL;
	}

	unsigned iterations = 0;
	if (!parse_iterations(attrs[2] + 2, &iterations)) {
		g_autofree char *what =
			sanitize(attrs[2] + 2, strlen(attrs[2] + 2));
		fail(client, error, SASL_ERROR_BAD_ITERATIONS,
		     "The SCRAM iteration count \"%s\" is not a number in "
		     "range",
		     what);
		return NULL;
	}
	if (iterations < SASL_SCRAM_MIN_ITERATIONS ||
	    iterations > SASL_SCRAM_MAX_ITERATIONS) {
		fail(client, error, SASL_ERROR_BAD_ITERATIONS,
		     "The SCRAM iteration count %u is outside %u..%u",
		     iterations, SASL_SCRAM_MIN_ITERATIONS,
		     SASL_SCRAM_MAX_ITERATIONS);
		return NULL;
	}

	if (!check_downgrade(client, attrs, n_attrs, error))
		return NULL;

	/* RFC 5802 §7: c= is base64(gs2-header [cbind-data]). */
	size_t gs2_len = strlen(client->gs2_header);
	size_t cb_len = client->channel_binding != NULL
				? g_bytes_get_size(client->channel_binding)
				: 0;
	g_autofree guint8 *cbind_input = g_malloc(gs2_len + cb_len);
	memcpy(cbind_input, client->gs2_header, gs2_len);
	if (cb_len > 0)
		memcpy(cbind_input + gs2_len,
		       g_bytes_get_data(client->channel_binding, NULL), cb_len);
	g_autofree char *cbind_b64 =
		g_base64_encode(cbind_input, gs2_len + cb_len);
	g_autofree char *final_without_proof =
		g_strdup_printf("c=%s,r=%s", cbind_b64, nonce);
	g_autofree char *auth_message = g_strdup_printf(
		"%s,%.*s,%s", client->client_first_bare, (int)len,
		(const char *)challenge, final_without_proof);
	size_t auth_len = strlen(auth_message);

	/* RFC 5802 §3. */
	guint8 salted[SCRAM_MAX_HASH_LEN];
	guint8 client_key[SCRAM_MAX_HASH_LEN];
	guint8 stored_key[SCRAM_MAX_HASH_LEN];
	guint8 client_signature[SCRAM_MAX_HASH_LEN];
	guint8 server_key[SCRAM_MAX_HASH_LEN];
	guint8 proof[SCRAM_MAX_HASH_LEN];
	size_t hl = client->hash_len;
	gnutls_datum_t key = {
		.data = (unsigned char *)client->password,
		.size = (unsigned)strlen(client->password),
	};
	gnutls_datum_t salt_datum = {.data = salt, .size = (unsigned)salt_len};
	bool ok = gnutls_pbkdf2(client->mac, &key, &salt_datum, iterations,
				salted, hl) == 0 &&
		  hmac(client, salted, hl, "Client Key", 10, client_key) &&
		  gnutls_hash_fast(client->digest, client_key, hl,
				   stored_key) == 0 &&
		  hmac(client, stored_key, hl, auth_message, auth_len,
		       client_signature) &&
		  hmac(client, salted, hl, "Server Key", 10, server_key) &&
		  hmac(client, server_key, hl, auth_message, auth_len,
		       client->server_signature);
	for (size_t i = 0; i < hl; i++)
		proof[i] = client_key[i] ^ client_signature[i];

	gnutls_memset(salted, 0, sizeof(salted));
	gnutls_memset(client_key, 0, sizeof(client_key));
	gnutls_memset(stored_key, 0, sizeof(stored_key));
	gnutls_memset(client_signature, 0, sizeof(client_signature));
	gnutls_memset(server_key, 0, sizeof(server_key));

	if (!ok) {
		gnutls_memset(proof, 0, sizeof(proof));
		fail(client, error, SASL_ERROR_BAD_CHALLENGE,
		     "SCRAM key derivation failed");
		return NULL;
	}

	g_autofree char *proof_b64 = g_base64_encode(proof, hl);
	gnutls_memset(proof, 0, sizeof(proof));
	char *final_msg =
		g_strdup_printf("%s,p=%s", final_without_proof, proof_b64);
	client->state = SCRAM_STATE_FINAL_SENT;
	return g_bytes_new_take(final_msg, strlen(final_msg));
}

bool sasl_client_verify_final(SaslClient *client, const guint8 *data,
			      size_t len, GError **error)
{
	g_return_val_if_fail(client != NULL, false);
	g_return_val_if_fail(data != NULL || len == 0, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	if (client->mech == SASL_MECHANISM_PLAIN) {
		if (client->state != SCRAM_STATE_FIRST_SENT) {
			fail(client, error, SASL_ERROR_INVALID_STATE,
			     "Unexpected SASL success for PLAIN");
			return false;
		}
		if (len != 0) {
			fail(client, error, SASL_ERROR_BAD_CHALLENGE,
			     "Unexpected data in SASL PLAIN success");
			return false;
		}
		client->state = SCRAM_STATE_VERIFIED;
		return true;
	}

	/*
	 * A server that sent server-final in a challenge ends with an empty
	 * <success/> (RFC 6120 §6.4.6); the proof already checked stands.
	 */
	if (client->state == SCRAM_STATE_VERIFIED && len == 0)
		return true;

	if (client->state != SCRAM_STATE_FINAL_SENT) {
		fail(client, error, SASL_ERROR_INVALID_STATE,
		     "SASL success before the SCRAM exchange completed");
		return false;
	}

	g_auto(GStrv) attrs = split_attributes(data, len);
	if (attrs == NULL) {
		fail(client, error, SASL_ERROR_SERVER_SIGNATURE,
		     "Missing or malformed SCRAM server-final-message: the "
		     "server did not prove it knows the password");
		return false;
	}
	/* server-final-message = (server-error / verifier) ["," ext] */
	if (attrs[0][0] == 'e') {
		g_autofree char *why =
			sanitize(attrs[0] + 2, strlen(attrs[0] + 2));
		fail(client, error, SASL_ERROR_SERVER_ERROR,
		     "The server refused authentication: %s", why);
		return false;
	}

	size_t v_len = 0;
	g_autofree guint8 *v = NULL;
	if (attrs[0][0] == 'v')
		v = base64_decode_strict(attrs[0] + 2, strlen(attrs[0] + 2),
					 &v_len);
	if (v == NULL || v_len != client->hash_len ||
	    gnutls_memcmp(v, client->server_signature, v_len) != 0) {
		fail(client, error, SASL_ERROR_SERVER_SIGNATURE,
		     "The SCRAM server signature does not verify: the server "
		     "may not be who it claims to be");
		return false;
	}

	client->state = SCRAM_STATE_VERIFIED;
	return true;
}
