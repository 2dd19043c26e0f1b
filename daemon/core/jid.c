/* SPDX-License-Identifier: MIT */
/*
 * JID parsing per RFC 7622. Without an IDNA/PRECIS library we approximate:
 * localpart ~ UsernameCaseMapped (RFC 8265 §3.3: width mapping, case fold,
 * NFC, IdentifierClass), domainpart ~ IDNA2008 U-label rules loosened to
 * letters/digits/marks plus LDH, resourcepart ~ OpaqueString (RFC 8265 §4.2:
 * non-ASCII spaces to U+0020, NFC, FreeformClass without controls).
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/jid.h"

/* clang-format off */
G_DEFINE_QUARK(jid-error-quark, jid_error)
/* clang-format on */

/* RFC 7622 §3.1: each part is 1..1023 octets. */
#define JID_PART_MAX 1023
/*
 * Bound the work done on hostile input before normalization can shrink
 * it: NFC never shrinks by more than a few times.
 */
#define JID_INPUT_MAX (4 * (3 * JID_PART_MAX + 2))

struct _Jid {
	char *local; /* NULL when absent */
	char *domain;
	char *resource; /* NULL when absent */
	char *bare;
	char *full;
};

static bool fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool fail(GError **error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(
		error,
		g_error_new_valist(JID_ERROR, JID_ERROR_INVALID, fmt, ap));
	va_end(ap);
	return false;
}

/* A character as people can read it in an error message. */
static char *describe_char(gunichar c)
{
	char buf[8];
	int n;

	if (c >= 0x21 && c < 0x7f)
		return g_strdup_printf("'%c'", (char)c);
	if (c > 0x7f && g_unichar_isgraph(c)) {
		n = g_unichar_to_utf8(c, buf);
		buf[n] = '\0';
		return g_strdup_printf("'%s' (U+%04X)", buf, c);
	}
	return g_strdup_printf("U+%04X", c);
}

static bool is_space_or_control(gunichar c)
{
	switch (g_unichar_type(c)) {
	case G_UNICODE_CONTROL:
	case G_UNICODE_SPACE_SEPARATOR:
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR:
	case G_UNICODE_UNASSIGNED:
	case G_UNICODE_SURROGATE:
	case G_UNICODE_PRIVATE_USE:
		return true;
	case G_UNICODE_FORMAT:
	case G_UNICODE_LOWERCASE_LETTER:
	case G_UNICODE_MODIFIER_LETTER:
	case G_UNICODE_OTHER_LETTER:
	case G_UNICODE_TITLECASE_LETTER:
	case G_UNICODE_UPPERCASE_LETTER:
	case G_UNICODE_SPACING_MARK:
	case G_UNICODE_ENCLOSING_MARK:
	case G_UNICODE_NON_SPACING_MARK:
	case G_UNICODE_DECIMAL_NUMBER:
	case G_UNICODE_LETTER_NUMBER:
	case G_UNICODE_OTHER_NUMBER:
	case G_UNICODE_CONNECT_PUNCTUATION:
	case G_UNICODE_DASH_PUNCTUATION:
	case G_UNICODE_CLOSE_PUNCTUATION:
	case G_UNICODE_FINAL_PUNCTUATION:
	case G_UNICODE_INITIAL_PUNCTUATION:
	case G_UNICODE_OTHER_PUNCTUATION:
	case G_UNICODE_OPEN_PUNCTUATION:
	case G_UNICODE_CURRENCY_SYMBOL:
	case G_UNICODE_MODIFIER_SYMBOL:
	case G_UNICODE_MATH_SYMBOL:
	case G_UNICODE_OTHER_SYMBOL:
		break;
	}
	return false;
}

/*
 * Letters, digits and combining marks: PRECIS LetterDigits (RFC 8264
 * §9.1), which is what IdentifierClass admits beyond printable ASCII.
 */
static bool is_letter_digit(gunichar c)
{
	switch (g_unichar_type(c)) {
	case G_UNICODE_LOWERCASE_LETTER:
	case G_UNICODE_MODIFIER_LETTER:
	case G_UNICODE_OTHER_LETTER:
	case G_UNICODE_TITLECASE_LETTER:
	case G_UNICODE_UPPERCASE_LETTER:
	case G_UNICODE_SPACING_MARK:
	case G_UNICODE_ENCLOSING_MARK:
	case G_UNICODE_NON_SPACING_MARK:
	case G_UNICODE_DECIMAL_NUMBER:
		return true;
	case G_UNICODE_CONTROL:
	case G_UNICODE_FORMAT:
	case G_UNICODE_UNASSIGNED:
	case G_UNICODE_PRIVATE_USE:
	case G_UNICODE_SURROGATE:
	case G_UNICODE_LETTER_NUMBER:
	case G_UNICODE_OTHER_NUMBER:
	case G_UNICODE_CONNECT_PUNCTUATION:
	case G_UNICODE_DASH_PUNCTUATION:
	case G_UNICODE_CLOSE_PUNCTUATION:
	case G_UNICODE_FINAL_PUNCTUATION:
	case G_UNICODE_INITIAL_PUNCTUATION:
	case G_UNICODE_OTHER_PUNCTUATION:
	case G_UNICODE_OPEN_PUNCTUATION:
	case G_UNICODE_CURRENCY_SYMBOL:
	case G_UNICODE_MODIFIER_SYMBOL:
	case G_UNICODE_MATH_SYMBOL:
	case G_UNICODE_OTHER_SYMBOL:
	case G_UNICODE_LINE_SEPARATOR:
	case G_UNICODE_PARAGRAPH_SEPARATOR:
	case G_UNICODE_SPACE_SEPARATOR:
		break;
	}
	return false;
}

/*
 * Fullwidth and halfwidth forms (U+FF01..U+FFEE): the width mapping rule
 * of UsernameCaseMapped maps them to their decomposition.
 */
static bool is_width_variant(gunichar c)
{
	return c >= 0xff01 && c <= 0xffee;
}

/*
 * NFKC of a single character differs from it: PRECIS
 * CompatibilityEquivalent, disallowed in IdentifierClass.
 */
static bool is_compat_equivalent(gunichar c)
{
	char buf[8];
	int n = g_unichar_to_utf8(c, buf);
	g_autofree char *nfkc = g_utf8_normalize(buf, n, G_NORMALIZE_NFKC);
	g_autofree char *nfc = g_utf8_normalize(buf, n, G_NORMALIZE_NFC);

	return nfkc == NULL || nfc == NULL || strcmp(nfkc, nfc) != 0;
}

/* Whether s[0..len) is all in [lo, 0x7e]: the fast paths' test. */
static bool is_ascii_range(const char *s, size_t len, unsigned char lo)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < lo || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static char *fold_nfc(const char *s, gssize len)
{
	size_t n = len < 0 ? strlen(s) : (size_t)len;
	g_autoptr(GString) lower = NULL;

	/*
	 * ASCII is its own NFC, and its lowercase is ASCII lowercasing: the
	 * common case without g_utf8_normalize's ~10,000 instructions.
	 */
	if (is_ascii_range(s, n, 0x01))
		return g_ascii_strdown(s, len);
	/*
	 * RFC 8265 §3.3.2 (UsernameCaseMapped, used by RFC 7622 §3.3):
	 * Unicode toLowerCase, not case folding, so ß and ς stay as they
	 * are (fußball is not fussball). Per character, so the locale (a
	 * Turkish dotless i) plays no part, unlike g_utf8_strdown.
	 */
	lower = g_string_sized_new(n);
	for (const char *p = s; p < s + n; p = g_utf8_next_char(p))
		g_string_append_unichar(lower,
					g_unichar_tolower(g_utf8_get_char(p)));
	return g_utf8_normalize(lower->str, (gssize)lower->len,
				G_NORMALIZE_NFC);
}

static bool check_length(const char *part, const char *value, GError **error)
{
	size_t len = strlen(value);

	if (len == 0)
		return fail(error, "%s is empty", part);
	if (len > JID_PART_MAX)
		return fail(error, "%s is longer than %d bytes (%zu)", part,
			    JID_PART_MAX, len);
	return true;
}

/* Printable ASCII but the RFC 7622 §3.3.1 exclusions "&'/:<>@. */
static bool is_ascii_local(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '"':
		case '&':
		case '\'':
		case '/':
		case ':':
		case '<':
		case '>':
		case '@':
			return false;
		default:
			if ((unsigned char)s[i] < 0x21 ||
			    (unsigned char)s[i] > 0x7e)
				return false;
		}
	}
	return true;
}

/* RFC 7622 §3.3 and RFC 8265 §3.3 (UsernameCaseMapped). */
static char *prepare_local(const char *s, size_t len, GError **error)
{
	g_autoptr(GString) mapped = NULL;
	g_autofree char *out = NULL;

	if (len == 0) {
		fail(error, "localpart is empty");
		return NULL;
	}
	/*
	 * Fast path: printable ASCII without the RFC 7622 §3.3.1 exclusions
	 * needs no width mapping and no NFC; folding is lowercasing. Any
	 * other input takes the full path below (and its error messages).
	 */
	if (is_ascii_local(s, len)) {
		out = g_ascii_strdown(s, (gssize)len);
		if (!check_length("localpart", out, error))
			return NULL;
		return g_steal_pointer(&out);
	}
	mapped = g_string_sized_new(len);
	for (const char *p = s; p < s + len; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (is_width_variant(c)) {
			char buf[8];
			int n = g_unichar_to_utf8(c, buf);
			g_autofree char *nfkc =
				g_utf8_normalize(buf, n, G_NORMALIZE_NFKC);

			g_string_append(mapped, nfkc);
			continue;
		}
		g_string_append_unichar(mapped, c);
	}
	for (const char *p = mapped->str; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		g_autofree char *desc = NULL;

		/*
		 * RFC 7622 §3.3.1: forbidden even though IdentifierClass
		 * would admit them as ASCII7.
		 */
		if (c < 0x80 && c > 0x20 && c != 0x7f &&
		    strchr("\"&'/:<>@", (int)c) == NULL)
			continue;
		if (c >= 0x80 && is_letter_digit(c) && !is_compat_equivalent(c))
			continue;
		desc = describe_char(c);
		if (c >= 0x80 && !is_space_or_control(c) &&
		    is_compat_equivalent(c))
			fail(error,
			     "localpart contains character %s, which has a "
			     "compatibility equivalent",
			     desc);
		else
			fail(error, "localpart contains forbidden character %s",
			     desc);
		return NULL;
	}
	out = fold_nfc(mapped->str, (gssize)mapped->len);
	if (!check_length("localpart", out, error))
		return NULL;
	return g_steal_pointer(&out);
}

static bool all_digits_and_dots(const char *s)
{
	bool digit = false;

	for (; *s != '\0'; s++) {
		if (g_ascii_isdigit(*s))
			digit = true;
		else if (*s != '.')
			return false;
	}
	return digit;
}

/* RFC 7622 §3.2: IP literal or a (possibly internationalized) host name. */
static char *prepare_domain(const char *s, size_t len, GError **error)
{
	g_autofree char *copy = g_strndup(s, len);
	g_autofree char *out = NULL;
	const char *label;

	if (len == 0) {
		fail(error, "domainpart is empty");
		return NULL;
	}
	if (copy[0] == '[') {
		struct in6_addr addr6;

		if (len < 3 || copy[len - 1] != ']') {
			fail(error, "domainpart starts with '[' but is not a "
				    "bracketed IPv6 address");
			return NULL;
		}
		copy[len - 1] = '\0';
		if (inet_pton(AF_INET6, copy + 1, &addr6) != 1) {
			fail(error,
			     "domainpart is not a valid IPv6 address literal");
			return NULL;
		}
		copy[len - 1] = ']';
		/* Hex digits compare case-insensitively. */
		return g_ascii_strdown(copy, (gssize)len);
	}

	/* RFC 7622 §3.2: a trailing label separator is removed. */
	if (len > 1 && copy[len - 1] == '.')
		copy[--len] = '\0';

	out = fold_nfc(copy, (gssize)len);
	/*
	 * IDNA2008 label separators other than '.' (RFC 5895 §2 and
	 * RFC 3490 §3.1): U+3002, U+FF0E, U+FF61 are full stops too.
	 */
	if (strstr(out, "\xe3\x80\x82") != NULL ||
	    strstr(out, "\xef\xbc\x8e") != NULL ||
	    strstr(out, "\xef\xbd\xa1") != NULL) {
		g_auto(GStrv) parts = NULL;
		char *joined;

		parts = g_strsplit(out, "\xe3\x80\x82", -1);
		joined = g_strjoinv(".", parts);
		g_strfreev(parts);
		parts = g_strsplit(joined, "\xef\xbc\x8e", -1);
		g_free(joined);
		joined = g_strjoinv(".", parts);
		g_strfreev(parts);
		parts = g_strsplit(joined, "\xef\xbd\xa1", -1);
		g_free(joined);
		g_free(out);
		out = g_strjoinv(".", parts);
	}
	if (!check_length("domainpart", out, error))
		return NULL;

	if (all_digits_and_dots(out)) {
		struct in_addr addr4;

		if (inet_pton(AF_INET, out, &addr4) != 1) {
			fail(error,
			     "domainpart looks like an IPv4 address but is "
			     "not a valid one");
			return NULL;
		}
		return g_steal_pointer(&out);
	}

	label = out;
	for (const char *p = out;; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		g_autofree char *desc = NULL;

		if (c == '.' || c == '\0') {
			size_t label_len = (size_t)(p - label);

			if (label_len == 0) {
				fail(error,
				     "domainpart contains an empty label");
				return NULL;
			}
			if (label_len > 63) {
				fail(error,
				     "domainpart contains a label longer than "
				     "63 bytes");
				return NULL;
			}
			/*
			 * RFC 5891 §4.2.3.1 / STD3: no hyphen at either end
			 * of a label.
			 */
			if (label[0] == '-' || p[-1] == '-') {
				fail(error,
				     "domainpart contains a label that starts "
				     "or ends with '-'");
				return NULL;
			}
			if (c == '\0')
				break;
			label = p + 1;
			continue;
		}
		if (c < 0x80 &&
		    (g_ascii_isalnum((char)c) || c == '-' || c == '_'))
			continue;
		if (c >= 0x80 && is_letter_digit(c))
			continue;
		desc = describe_char(c);
		fail(error, "domainpart contains forbidden character %s", desc);
		return NULL;
	}
	return g_steal_pointer(&out);
}

/* Domainparts up to this many bytes, in and out, are remembered. */
#define DOMAIN_MEMO_MAX 256

/*
 * The last domainpart prepared, per thread. A contact list spans a few
 * domains, and preparing one (a copy, the fold, three scans for the
 * ideographic full stops, the label check) was the largest part of
 * parsing a presence's from (issue #13). The result depends on the input
 * bytes alone, so a hit is the same string; only a success is kept, so
 * every error still comes from prepare_domain(). Fixed buffers: nothing
 * to free when a thread ends.
 */
static _Thread_local struct {
	size_t raw_len; /* 0: empty */
	char raw[DOMAIN_MEMO_MAX];
	char out[DOMAIN_MEMO_MAX];
} domain_memo;

static char *prepare_domain_memo(const char *s, size_t len, GError **error)
{
	char *out;
	size_t out_len;

	if (len > 0 && len == domain_memo.raw_len &&
	    memcmp(s, domain_memo.raw, len) == 0)
		return g_strdup(domain_memo.out);
	out = prepare_domain(s, len, error);
	if (out == NULL)
		return NULL;
	out_len = strlen(out);
	if (len < DOMAIN_MEMO_MAX && out_len < DOMAIN_MEMO_MAX) {
		memcpy(domain_memo.raw, s, len);
		domain_memo.raw_len = len;
		memcpy(domain_memo.out, out, out_len + 1);
	}
	return out;
}

/* RFC 7622 §3.4 and RFC 8265 §4.2 (OpaqueString). */
static char *prepare_resource(const char *s, size_t len, GError **error)
{
	g_autoptr(GString) mapped = NULL;
	g_autofree char *out = NULL;

	if (len == 0) {
		fail(error, "resourcepart is empty");
		return NULL;
	}
	/*
	 * Fast path: printable ASCII (U+0020 included) maps to itself, has
	 * no control and is its own NFC.
	 */
	if (is_ascii_range(s, len, 0x20)) {
		if (s[0] == ' ') {
			fail(error, "resourcepart starts with a space");
			return NULL;
		}
		out = g_strndup(s, len);
		if (!check_length("resourcepart", out, error))
			return NULL;
		return g_steal_pointer(&out);
	}
	mapped = g_string_sized_new(len);
	for (const char *p = s; p < s + len; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		g_autofree char *desc = NULL;

		/* Additional mapping rule: non-ASCII spaces become U+0020. */
		if (g_unichar_type(c) == G_UNICODE_SPACE_SEPARATOR) {
			g_string_append_c(mapped, ' ');
			continue;
		}
		if (!is_space_or_control(c)) {
			g_string_append_unichar(mapped, c);
			continue;
		}
		desc = describe_char(c);
		fail(error, "resourcepart contains forbidden character %s",
		     desc);
		return NULL;
	}
	/* RFC 7622 §3.5 lists "juliet@example.com/ foo" as invalid. */
	if (mapped->str[0] == ' ') {
		fail(error, "resourcepart starts with a space");
		return NULL;
	}
	out = g_utf8_normalize(mapped->str, (gssize)mapped->len,
			       G_NORMALIZE_NFC);
	if (!check_length("resourcepart", out, error))
		return NULL;
	return g_steal_pointer(&out);
}

Jid *jid_parse(const char *str, GError **error)
{
	g_autofree char *local = NULL;
	g_autofree char *domain = NULL;
	g_autofree char *resource = NULL;
	const char *slash;
	const char *at;
	const char *domain_start;
	size_t len;
	Jid *jid;

	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (str == NULL) {
		fail(error, "JID is missing");
		return NULL;
	}
	len = strlen(str);
	if (len == 0) {
		fail(error, "JID is empty");
		return NULL;
	}
	if (len > JID_INPUT_MAX) {
		fail(error, "JID is too long (%zu bytes)", len);
		return NULL;
	}
	if (!g_utf8_validate(str, (gssize)len, NULL)) {
		fail(error, "JID is not valid UTF-8");
		return NULL;
	}

	/*
	 * RFC 7622 §3.2: the resourcepart starts at the first '/', the
	 * localpart ends at the first '@' before it.
	 */
	slash = strchr(str, '/');
	if (slash == NULL)
		slash = str + len;
	at = memchr(str, '@', (size_t)(slash - str));
	domain_start = at != NULL ? at + 1 : str;

	if (at != NULL) {
		local = prepare_local(str, (size_t)(at - str), error);
		if (local == NULL)
			return NULL;
	}
	domain = prepare_domain_memo(domain_start,
				     (size_t)(slash - domain_start), error);
	if (domain == NULL)
		return NULL;
	if (*slash == '/') {
		resource = prepare_resource(
			slash + 1, (size_t)(str + len - slash - 1), error);
		if (resource == NULL)
			return NULL;
	}

	jid = g_new0(Jid, 1);
	jid->local = g_steal_pointer(&local);
	jid->domain = g_steal_pointer(&domain);
	jid->resource = g_steal_pointer(&resource);
	jid->bare = jid->local != NULL
			    ? g_strconcat(jid->local, "@", jid->domain, NULL)
			    : g_strdup(jid->domain);
	jid->full = jid->resource != NULL
			    ? g_strconcat(jid->bare, "/", jid->resource, NULL)
			    : g_strdup(jid->bare);
	return jid;
}

void jid_free(Jid *jid)
{
	if (jid == NULL)
		return;
	g_free(jid->local);
	g_free(jid->domain);
	g_free(jid->resource);
	g_free(jid->bare);
	g_free(jid->full);
	g_free(jid);
}

void jid_free_to_strings(Jid *jid, char **ret_full, char **ret_bare,
			 char **ret_resource)
{
	g_return_if_fail(jid != NULL);

	*ret_full = g_steal_pointer(&jid->full);
	*ret_bare = g_steal_pointer(&jid->bare);
	*ret_resource = g_steal_pointer(&jid->resource);
	jid_free(jid);
}

const char *jid_get_local(const Jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->local;
}

const char *jid_get_domain(const Jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->domain;
}

const char *jid_get_resource(const Jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->resource;
}

const char *jid_get_bare(const Jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->bare;
}

const char *jid_get_full(const Jid *jid)
{
	g_return_val_if_fail(jid != NULL, NULL);
	return jid->full;
}

bool jid_is_bare(const Jid *jid)
{
	g_return_val_if_fail(jid != NULL, false);
	return jid->resource == NULL;
}

bool jid_equal(const Jid *a, const Jid *b)
{
	g_return_val_if_fail(a != NULL && b != NULL, false);
	return strcmp(a->full, b->full) == 0;
}

bool jid_bare_equal(const Jid *a, const Jid *b)
{
	g_return_val_if_fail(a != NULL && b != NULL, false);
	return strcmp(a->bare, b->bare) == 0;
}

char *jid_dup_bare_from_string(const char *str, GError **error)
{
	g_autoptr(Jid) jid = jid_parse(str, error);

	if (jid == NULL)
		return NULL;
	return g_strdup(jid->bare);
}
