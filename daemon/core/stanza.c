/* SPDX-License-Identifier: MIT */
/*
 * The element tree. Kept small because every received stanza is built into
 * one: the name lives in the node's own allocation, a namespace equal to
 * the parent's (or a common one) is shared rather than copied, a parsed
 * element's attributes are one block (pointers, then "name\0value\0"
 * pairs; one "name\0value" block each once edited), children are a singly
 * linked list with a tail pointer (O(1) append), text is one buffer allocated
 * on first use.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "core/stanza.h"

struct _Stanza {
	const char *ns; /* NULL: inherited; owned unless ns_borrowed */
	char **attrs;	/* per attribute: "name\0value\0" block, value ptr */
	char *text;	/* NULL: "" */
	size_t text_len;
	size_t text_alloc;
	Stanza *parent;
	Stanza *first_child;
	Stanza *last_child;
	Stanza *next;
	size_t n_children;
	uint32_t n_attrs;
	uint32_t attrs_alloc;
	bool ns_borrowed;  /* ns points at a parent's or a static string */
	bool attrs_packed; /* attrs is one block holding the strings too */
	char name[];	   /* allocated with the struct */
};

/* Namespaces most elements carry: shared instead of copied. */
static const char *const common_ns[] = {
	"jabber:client",
	"http://etherx.jabber.org/streams",
	"jabber:iq:roster",
	"http://jabber.org/protocol/caps",
	"vcard-temp:x:update",
	"urn:xmpp:delay",
	"urn:ietf:params:xml:ns:xmpp-stanzas",
};

static Stanza *stanza_alloc(const char *name, const char *xmlns,
			    const Stanza *parent)
{
	size_t len = strlen(name);
	Stanza *stanza = g_malloc0(sizeof(Stanza) + len + 1);

	memcpy(stanza->name, name, len + 1);
	if (xmlns == NULL)
		return stanza;
	if (parent != NULL && parent->ns != NULL &&
	    (parent->ns == xmlns || strcmp(parent->ns, xmlns) == 0)) {
		/* A child lives no longer than its parent. */
		stanza->ns = parent->ns;
		stanza->ns_borrowed = true;
		return stanza;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(common_ns); i++) {
		if (strcmp(common_ns[i], xmlns) == 0) {
			stanza->ns = common_ns[i];
			stanza->ns_borrowed = true;
			return stanza;
		}
	}
	stanza->ns = g_strdup(xmlns);
	return stanza;
}

size_t stanza_record_size(void)
{
	return sizeof(Stanza);
}

Stanza *stanza_new(const char *name, const char *xmlns)
{
	g_return_val_if_fail(name != NULL, NULL);
	return stanza_alloc(name, xmlns, NULL);
}

void stanza_free(Stanza *stanza)
{
	Stanza *child;

	if (stanza == NULL)
		return;

	/*
	 * Iterative over siblings, recursive only in depth (which the reader
	 * caps), so a 100,000-item roster does not recurse 100,000 deep.
	 */
	child = stanza->first_child;
	while (child != NULL) {
		Stanza *next = child->next;

		child->parent = NULL;
		stanza_free(child);
		child = next;
	}
	if (!stanza->attrs_packed)
		for (uint32_t i = 0; i < stanza->n_attrs; i++)
			g_free(stanza->attrs[2 * i]);
	g_free(stanza->attrs);
	g_free(stanza->text);
	if (!stanza->ns_borrowed)
		g_free((char *)stanza->ns);
	g_free(stanza);
}

const char *stanza_get_name(const Stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->name;
}

const char *stanza_get_ns(const Stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->ns;
}

static int find_attr(const Stanza *stanza, const char *name)
{
	for (uint32_t i = 0; i < stanza->n_attrs; i++)
		if (strcmp(stanza->attrs[2 * i], name) == 0)
			return (int)i;
	return -1;
}

const char *stanza_get_attr(const Stanza *stanza, const char *name)
{
	int i;

	g_return_val_if_fail(stanza != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);

	i = find_attr(stanza, name);
	return i < 0 ? NULL : stanza->attrs[2 * i + 1];
}

static char *attr_block(const char *name, const char *value, size_t len,
			char **ret_value)
{
	size_t name_len = strlen(name);
	char *block = g_malloc(name_len + 1 + len + 1);

	memcpy(block, name, name_len + 1);
	memcpy(block + name_len + 1, value, len);
	block[name_len + 1 + len] = '\0';
	*ret_value = block + name_len + 1;
	return block;
}

/* Before an edit: one block per attribute again (edits are rare). */
static void unpack_attrs(Stanza *stanza)
{
	char **packed = stanza->attrs;
	char *v;

	stanza->attrs = g_new(char *, (size_t)MAX(stanza->n_attrs, 1) * 2);
	stanza->attrs_alloc = MAX(stanza->n_attrs, 1);
	for (uint32_t i = 0; i < stanza->n_attrs; i++) {
		stanza->attrs[2 * i] =
			attr_block(packed[2 * i], packed[2 * i + 1],
				   strlen(packed[2 * i + 1]), &v);
		stanza->attrs[2 * i + 1] = v;
	}
	stanza->attrs_packed = false;
	g_free(packed);
}

void stanza_set_attrs_packed(Stanza *stanza, size_t n, const char *const *names,
			     const char *const *values, const size_t *lens)
{
	size_t bytes = 0;
	size_t kept = 0;
	char **block;
	char *p;

	g_return_if_fail(stanza != NULL && stanza->n_attrs == 0);
	g_return_if_fail(n == 0 || (names && values && lens));
	g_return_if_fail(n <= UINT32_MAX);

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(names[i]) + 1 + lens[i] + 1;
	block = g_malloc(n * 2 * sizeof(char *) + bytes);
	p = (char *)(block + n * 2);
	for (size_t i = 0; i < n; i++) {
		size_t name_len = strlen(names[i]);
		bool dup = false;

		for (size_t j = 0; j < kept && !dup; j++)
			dup = strcmp(block[2 * j], names[i]) == 0;
		if (dup)
			continue;
		block[2 * kept] = p;
		memcpy(p, names[i], name_len + 1);
		p += name_len + 1;
		block[2 * kept + 1] = p;
		memcpy(p, values[i], lens[i]);
		p[lens[i]] = '\0';
		p += lens[i] + 1;
		kept++;
	}
	g_free(stanza->attrs);
	stanza->attrs = block;
	stanza->n_attrs = (uint32_t)kept;
	stanza->attrs_alloc = (uint32_t)kept;
	stanza->attrs_packed = true;
}

void stanza_set_attr_len(Stanza *stanza, const char *name, const char *value,
			 size_t len)
{
	int i;
	char *v;

	g_return_if_fail(stanza != NULL);
	g_return_if_fail(name != NULL);

	if (stanza->attrs_packed)
		unpack_attrs(stanza);

	i = find_attr(stanza, name);
	if (i >= 0) {
		g_free(stanza->attrs[2 * i]);
		if (value != NULL) {
			stanza->attrs[2 * i] = attr_block(name, value, len, &v);
			stanza->attrs[2 * i + 1] = v;
			return;
		}
		/* Removal keeps the order of the others. */
		memmove(&stanza->attrs[2 * i], &stanza->attrs[2 * i + 2],
			(stanza->n_attrs - i - 1) * 2 * sizeof(char *));
		stanza->n_attrs--;
		return;
	}
	if (value == NULL)
		return;
	if (stanza->n_attrs == stanza->attrs_alloc) {
		stanza->attrs_alloc =
			stanza->attrs_alloc ? stanza->attrs_alloc * 2 : 4;
		stanza->attrs = g_renew(char *, stanza->attrs,
					(size_t)stanza->attrs_alloc * 2);
	}
	stanza->attrs[2 * stanza->n_attrs] = attr_block(name, value, len, &v);
	stanza->attrs[2 * stanza->n_attrs + 1] = v;
	stanza->n_attrs++;
}

void stanza_set_attr(Stanza *stanza, const char *name, const char *value)
{
	stanza_set_attr_len(stanza, name, value,
			    value != NULL ? strlen(value) : 0);
}

bool stanza_get_attr_nth(const Stanza *stanza, size_t index,
			 const char **ret_name, const char **ret_value)
{
	g_return_val_if_fail(stanza != NULL, false);

	if (index >= stanza->n_attrs)
		return false;
	if (ret_name != NULL)
		*ret_name = stanza->attrs[2 * index];
	if (ret_value != NULL)
		*ret_value = stanza->attrs[2 * index + 1];
	return true;
}

const char *stanza_get_text(const Stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->text != NULL ? stanza->text : "";
}

void stanza_append_text(Stanza *stanza, const char *text, gssize len)
{
	size_t n;

	g_return_if_fail(stanza != NULL);
	g_return_if_fail(text != NULL || len == 0);

	n = len < 0 ? strlen(text) : (size_t)len;
	if (n == 0)
		return;
	if (stanza->text_len + n + 1 > stanza->text_alloc) {
		/* Exact for the usual single piece, doubling after. */
		stanza->text_alloc = stanza->text == NULL
					     ? n + 1
					     : MAX(stanza->text_alloc * 2,
						   stanza->text_len + n + 1);
		stanza->text = g_realloc(stanza->text, stanza->text_alloc);
	}
	memcpy(stanza->text + stanza->text_len, text, n);
	stanza->text_len += n;
	stanza->text[stanza->text_len] = '\0';
}

void stanza_set_text(Stanza *stanza, const char *text)
{
	g_return_if_fail(stanza != NULL);

	stanza->text_len = 0;
	if (stanza->text != NULL)
		stanza->text[0] = '\0';
	if (text != NULL)
		stanza_append_text(stanza, text, -1);
}

void stanza_wipe_text(Stanza *stanza)
{
	g_return_if_fail(stanza != NULL);

	if (stanza->text != NULL)
		explicit_bzero(stanza->text, stanza->text_alloc);
	stanza->text_len = 0;
}

Stanza *stanza_add_child(Stanza *parent, Stanza *child)
{
	g_return_val_if_fail(parent != NULL, NULL);
	g_return_val_if_fail(child != NULL, NULL);
	g_return_val_if_fail(child->parent == NULL, NULL);

	child->parent = parent;
	child->next = NULL;
	if (parent->last_child != NULL)
		parent->last_child->next = child;
	else
		parent->first_child = child;
	parent->last_child = child;
	parent->n_children++;
	return child;
}

Stanza *stanza_add_child_new(Stanza *parent, const char *name,
			     const char *xmlns)
{
	g_return_val_if_fail(parent != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);
	return stanza_add_child(parent, stanza_alloc(name, xmlns, parent));
}

Stanza *stanza_add_child_text(Stanza *parent, const char *name,
			      const char *xmlns, const char *text)
{
	Stanza *child = stanza_add_child_new(parent, name, xmlns);

	if (child != NULL && text != NULL)
		stanza_append_text(child, text, -1);
	return child;
}

Stanza *stanza_get_child(const Stanza *stanza, const char *name,
			 const char *xmlns)
{
	g_return_val_if_fail(stanza != NULL, NULL);

	for (Stanza *c = stanza->first_child; c != NULL; c = c->next) {
		if (name != NULL && strcmp(c->name, name) != 0)
			continue;
		if (xmlns != NULL && g_strcmp0(c->ns, xmlns) != 0)
			continue;
		return c;
	}
	return NULL;
}

Stanza *stanza_get_first_child(const Stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->first_child;
}

Stanza *stanza_get_next_sibling(const Stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->next;
}

Stanza *stanza_get_parent(const Stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return stanza->parent;
}

size_t stanza_get_n_children(const Stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, 0);
	return stanza->n_children;
}

/*
 * Appends s escaped. In attributes (quoted with ') the quotes and the
 * whitespace characters that attribute-value normalization would turn into
 * spaces (XML 1.0 §3.3.3) become character references, so values survive a
 * round trip; so does CR in text, which end-of-line handling (§2.11) would
 * turn into LF. C0 controls other than tab, LF and CR cannot appear in an XML
 * 1.0 document at all, not even as references (§2.2); they are dropped
 * rather than making the peer close the stream as not-well-formed.
 */
static void append_escaped(GString *out, const char *s, size_t len, bool attr)
{
	const char *run = s;
	const char *end = s + len;

	for (const char *p = s; p < end; p++) {
		const char *rep;
		unsigned char c = (unsigned char)*p;

		switch (c) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = attr ? "&quot;" : NULL;
			break;
		case '\'':
			rep = attr ? "&apos;" : NULL;
			break;
		case '\t':
			rep = attr ? "&#9;" : NULL;
			break;
		case '\n':
			rep = attr ? "&#10;" : NULL;
			break;
		case '\r':
			rep = "&#13;";
			break;
		default:
			rep = c < 0x20 ? "" : NULL;
			break;
		}
		if (rep == NULL)
			continue;
		g_string_append_len(out, run, p - run);
		g_string_append(out, rep);
		run = p + 1;
	}
	g_string_append_len(out, run, end - run);
}

static bool is_xmlns_attr(const char *name)
{
	return strncmp(name, "xmlns", 5) == 0 &&
	       (name[5] == '\0' || name[5] == ':');
}

void stanza_serialize(const Stanza *stanza, const char *parent_ns, GString *out)
{
	const char *ns;

	g_return_if_fail(stanza != NULL);
	g_return_if_fail(out != NULL);

	ns = stanza->ns != NULL ? stanza->ns : parent_ns;
	g_string_append_c(out, '<');
	g_string_append(out, stanza->name);
	if (ns != NULL && g_strcmp0(ns, parent_ns) != 0) {
		g_string_append(out, " xmlns='");
		append_escaped(out, ns, strlen(ns), true);
		g_string_append_c(out, '\'');
	}
	for (uint32_t i = 0; i < stanza->n_attrs; i++) {
		const char *name = stanza->attrs[2 * i];
		const char *value = stanza->attrs[2 * i + 1];

		/* Namespace declarations come from stanza->ns only. */
		if (is_xmlns_attr(name))
			continue;
		g_string_append_c(out, ' ');
		g_string_append(out, name);
		g_string_append(out, "='");
		append_escaped(out, value, strlen(value), true);
		g_string_append_c(out, '\'');
	}
	if (stanza->first_child == NULL && stanza->text_len == 0) {
		g_string_append(out, "/>");
		return;
	}
	g_string_append_c(out, '>');
	if (stanza->text_len > 0)
		append_escaped(out, stanza->text, stanza->text_len, false);
	for (Stanza *c = stanza->first_child; c != NULL; c = c->next)
		stanza_serialize(c, ns, out);
	g_string_append(out, "</");
	g_string_append(out, stanza->name);
	g_string_append_c(out, '>');
}

char *stanza_to_string(const Stanza *stanza)
{
	GString *out;

	g_return_val_if_fail(stanza != NULL, NULL);

	out = g_string_sized_new(256);
	stanza_serialize(stanza, "jabber:client", out);
	return g_string_free(out, FALSE);
}

static Stanza *copy_into(const Stanza *stanza, Stanza *parent)
{
	Stanza *copy = stanza_alloc(stanza->name, stanza->ns, parent);

	if (parent != NULL)
		stanza_add_child(parent, copy);
	if (stanza->n_attrs > 0) {
		copy->attrs_alloc = stanza->n_attrs;
		copy->attrs = g_new(char *, (size_t)stanza->n_attrs * 2);
		for (uint32_t i = 0; i < stanza->n_attrs; i++) {
			char *v;

			copy->attrs[2 * i] = attr_block(
				stanza->attrs[2 * i], stanza->attrs[2 * i + 1],
				strlen(stanza->attrs[2 * i + 1]), &v);
			copy->attrs[2 * i + 1] = v;
		}
		copy->n_attrs = stanza->n_attrs;
	}
	if (stanza->text_len > 0)
		stanza_append_text(copy, stanza->text,
				   (gssize)stanza->text_len);
	for (Stanza *c = stanza->first_child; c != NULL; c = c->next)
		copy_into(c, copy);
	return copy;
}

Stanza *stanza_copy(const Stanza *stanza)
{
	g_return_val_if_fail(stanza != NULL, NULL);
	return copy_into(stanza, NULL);
}
