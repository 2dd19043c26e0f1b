/* SPDX-License-Identifier: MIT */
/*
 * Entity capabilities (XEP-0115): the disco#info description, its
 * verification string (§5.1), the received-result checks (§5.4), and our
 * own description, <c/> and disco#info answer.
 */
#include "config.h"

#include <string.h>

#include "core/blocking.h"
#include "core/caps.h"
#include "core/last-activity.h"

G_DEFINE_QUARK(caps - error - quark, caps_error)

typedef struct {
	char *category;
	char *type;
	char *lang;
	char *name;
} Identity;

typedef struct {
	char *var;
	GPtrArray *values; /* char*, NULL-terminated */
} Field;

typedef struct {
	char *form_type;
	GPtrArray *fields; /* Field* */
} Form;

struct _CapsInfo {
	GPtrArray *identities; /* Identity* */
	GPtrArray *features;   /* char* */
	GPtrArray *forms;      /* Form* */
};

struct _CapsOwn {
	char *node;
	char *ver;
	CapsInfo *info;
};

/* What the daemon implements, and so what it advertises (issue #14): the
 * one list both the disco#info answer and the ver come from. Stream
 * features (CSI, SM) are not disco features and do not belong here. */
static const char *const own_features[] = {
	NS_CAPS,	  /* XEP-0115 */
	NS_DISCO_INFO,	  /* XEP-0030 */
	NS_IDLE_FEATURE,  /* XEP-0319, in our presence */
	NS_LAST_ACTIVITY, /* XEP-0012 */
	NS_PING,	  /* XEP-0199 */
};

#define OWN_CATEGORY "client"
#define OWN_TYPE "pc"
#define OWN_NAME "presenced"

static const char *const hash_names[] = {
	[CAPS_HASH_SHA1] = "sha-1",
	[CAPS_HASH_SHA256] = "sha-256",
	[CAPS_HASH_SHA384] = "sha-384",
	[CAPS_HASH_SHA512] = "sha-512",
};

/* ---- hashes ------------------------------------------------------------ */

bool caps_hash_from_string(const char *name, CapsHash *ret_hash)
{
	if (name == NULL)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(hash_names); i++) {
		if (strcmp(name, hash_names[i]) == 0) {
			*ret_hash = (CapsHash)i;
			return true;
		}
	}
	return false;
}

const char *caps_hash_to_string(CapsHash hash)
{
	g_return_val_if_fail((size_t)hash < G_N_ELEMENTS(hash_names), NULL);
	return hash_names[hash];
}

static GChecksumType checksum_type(CapsHash hash)
{
	switch (hash) {
	case CAPS_HASH_SHA1:
		return G_CHECKSUM_SHA1;
	case CAPS_HASH_SHA256:
		return G_CHECKSUM_SHA256;
	case CAPS_HASH_SHA384:
		return G_CHECKSUM_SHA384;
	case CAPS_HASH_SHA512:
		return G_CHECKSUM_SHA512;
	}
	g_assert_not_reached();
}

/* ---- the description ---------------------------------------------------
 */

static void identity_free(Identity *id)
{
	g_free(id->category);
	g_free(id->type);
	g_free(id->lang);
	g_free(id->name);
	g_free(id);
}

static void field_free(Field *field)
{
	g_free(field->var);
	g_ptr_array_unref(field->values);
	g_free(field);
}

static void form_free(Form *form)
{
	g_free(form->form_type);
	g_ptr_array_unref(form->fields);
	g_free(form);
}

CapsInfo *caps_info_new(void)
{
	CapsInfo *info = g_new0(CapsInfo, 1);

	info->identities =
		g_ptr_array_new_with_free_func((GDestroyNotify)identity_free);
	info->features = g_ptr_array_new_with_free_func(g_free);
	info->forms = g_ptr_array_new_with_free_func((GDestroyNotify)form_free);
	return info;
}

void caps_info_free(CapsInfo *info)
{
	if (info == NULL)
		return;
	g_ptr_array_unref(info->identities);
	g_ptr_array_unref(info->features);
	g_ptr_array_unref(info->forms);
	g_free(info);
}

void caps_info_add_identity(CapsInfo *info, const char *category,
			    const char *type, const char *lang,
			    const char *name)
{
	Identity *id = g_new0(Identity, 1);

	id->category = g_strdup(category ? category : "");
	id->type = g_strdup(type ? type : "");
	id->lang = g_strdup(lang ? lang : "");
	id->name = g_strdup(name ? name : "");
	g_ptr_array_add(info->identities, id);
}

void caps_info_add_feature(CapsInfo *info, const char *var)
{
	g_ptr_array_add(info->features, g_strdup(var ? var : ""));
}

void caps_info_add_form(CapsInfo *info, const char *form_type)
{
	Form *form = g_new0(Form, 1);

	form->form_type = g_strdup(form_type);
	form->fields =
		g_ptr_array_new_with_free_func((GDestroyNotify)field_free);
	g_ptr_array_add(info->forms, form);
}

void caps_info_add_field(CapsInfo *info, const char *var,
			 const char *const *values, size_t n_values)
{
	Field *field;

	g_return_if_fail(info->forms->len > 0);
	field = g_new0(Field, 1);
	field->var = g_strdup(var ? var : "");
	field->values = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; i < n_values; i++)
		g_ptr_array_add(field->values, g_strdup(values[i]));
	g_ptr_array_add(field->values, NULL);
	g_ptr_array_add(
		((Form *)g_ptr_array_index(info->forms, info->forms->len - 1))
			->fields,
		field);
}

size_t caps_info_get_n_identities(const CapsInfo *info)
{
	return info->identities->len;
}

CapsIdentity caps_info_get_identity(const CapsInfo *info, size_t index)
{
	const Identity *id = g_ptr_array_index(info->identities, index);

	return (CapsIdentity){id->category, id->type, id->lang, id->name};
}

size_t caps_info_get_n_features(const CapsInfo *info)
{
	return info->features->len;
}

const char *caps_info_get_feature(const CapsInfo *info, size_t index)
{
	return g_ptr_array_index(info->features, index);
}

bool caps_info_has_feature(const CapsInfo *info, const char *var)
{
	for (guint i = 0; i < info->features->len; i++)
		if (strcmp(g_ptr_array_index(info->features, i), var) == 0)
			return true;
	return false;
}

size_t caps_info_get_n_forms(const CapsInfo *info)
{
	return info->forms->len;
}

static const Form *get_form(const CapsInfo *info, size_t form)
{
	return g_ptr_array_index(info->forms, form);
}

const char *caps_info_get_form_type(const CapsInfo *info, size_t form)
{
	return get_form(info, form)->form_type;
}

size_t caps_info_get_n_fields(const CapsInfo *info, size_t form)
{
	return get_form(info, form)->fields->len;
}

const char *caps_info_get_field(const CapsInfo *info, size_t form, size_t field,
				const char *const **ret_values)
{
	const Field *f = g_ptr_array_index(get_form(info, form)->fields, field);

	*ret_values = (const char *const *)f->values->pdata;
	return f->var;
}

/* ---- sorting (i;octet: strcmp compares bytes as unsigned char) ---------
 */

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* §5.1 step 2: category, then type, then xml:lang; name breaks the ties
 * that §5.4 3.3 allows (same category/type/lang, other name). */
static int cmp_identity(gconstpointer a, gconstpointer b)
{
	const Identity *x = *(const Identity *const *)a;
	const Identity *y = *(const Identity *const *)b;
	int c;

	if ((c = strcmp(x->category, y->category)) != 0)
		return c;
	if ((c = strcmp(x->type, y->type)) != 0)
		return c;
	if ((c = strcmp(x->lang, y->lang)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

static int cmp_form(gconstpointer a, gconstpointer b)
{
	return strcmp((*(const Form *const *)a)->form_type,
		      (*(const Form *const *)b)->form_type);
}

static int cmp_field(gconstpointer a, gconstpointer b)
{
	return strcmp((*(const Field *const *)a)->var,
		      (*(const Field *const *)b)->var);
}

/* A sorted shallow copy: hashing must not reorder the caller's info. */
static GPtrArray *sorted_copy(GPtrArray *array, GCompareFunc cmp, guint len)
{
	GPtrArray *copy = g_ptr_array_sized_new(len);

	for (guint i = 0; i < len; i++)
		g_ptr_array_add(copy, g_ptr_array_index(array, i));
	g_ptr_array_sort(copy, cmp);
	return copy;
}

/* Rank of a 'client' identity's language for the main identity. */
static int lang_rank(const Identity *id)
{
	if (*id->lang == '\0')
		return 0;
	return g_ascii_strncasecmp(id->lang, "en", 2) == 0 &&
			       (id->lang[2] == '\0' || id->lang[2] == '-')
		       ? 1
		       : 2;
}

bool caps_info_get_main_identity(const CapsInfo *info, CapsIdentity *ret)
{
	g_autoptr(GPtrArray) ids = NULL;
	const Identity *best = NULL;

	if (info->identities->len == 0)
		return false;
	ids = sorted_copy(info->identities, cmp_identity,
			  info->identities->len);
	for (guint i = 0; i < ids->len; i++) {
		const Identity *id = g_ptr_array_index(ids, i);

		if (strcmp(id->category, "client") != 0)
			continue;
		if (best == NULL || lang_rank(id) < lang_rank(best))
			best = id;
	}
	if (best == NULL)
		best = g_ptr_array_index(ids, 0);
	*ret = (CapsIdentity){best->category, best->type, best->lang,
			      best->name};
	return true;
}

char **caps_info_dup_features_sorted(const CapsInfo *info)
{
	g_autoptr(GPtrArray) sorted =
		sorted_copy(info->features, cmp_str, info->features->len);
	char **out = g_new0(char *, sorted->len + 1);

	for (guint i = 0; i < sorted->len; i++)
		out[i] = g_strdup(g_ptr_array_index(sorted, i));
	return out;
}

/* ---- validation --------------------------------------------------------
 */

static bool ill_formed(GError **error, const char *what, const char *value)
{
	g_set_error(error, CAPS_ERROR, CAPS_ERROR_ILL_FORMED,
		    "disco#info: %s%s%s%s", what, value ? " '" : "",
		    value ? value : "", value ? "'" : "");
	return false;
}

/* Every string: bounded, UTF-8, and no '<' (see caps_info_validate). */
static bool check_string(const char *s, bool required, const char *what,
			 GError **error)
{
	if (required && *s == '\0')
		return ill_formed(error, what, "(empty)");
	if (strlen(s) > CAPS_MAX_STRING_BYTES)
		return ill_formed(error, what, "(too long)");
	if (!g_utf8_validate(s, -1, NULL))
		return ill_formed(error, what, "(not UTF-8)");
	if (strchr(s, '<') != NULL)
		return ill_formed(error, "'<' in", what);
	return true;
}

static bool check_identities(const CapsInfo *info, GError **error)
{
	g_autoptr(GPtrArray) sorted = NULL;

	if (info->identities->len > CAPS_MAX_IDENTITIES)
		return ill_formed(error, "too many identities", NULL);
	for (guint i = 0; i < info->identities->len; i++) {
		const Identity *id = g_ptr_array_index(info->identities, i);

		if (!check_string(id->category, true, "category", error) ||
		    !check_string(id->type, true, "type", error) ||
		    !check_string(id->lang, false, "xml:lang", error) ||
		    !check_string(id->name, false, "name", error))
			return false;
	}
	sorted = sorted_copy(info->identities, cmp_identity,
			     info->identities->len);
	for (guint i = 1; i < sorted->len; i++)
		if (cmp_identity(&sorted->pdata[i - 1], &sorted->pdata[i]) == 0)
			return ill_formed(error, "duplicate identity", NULL);
	return true;
}

/* Sorted strings of a GPtrArray with no two equal (§5.4 3.4). */
static bool check_distinct(GPtrArray *strings, guint len, const char *what,
			   GError **error)
{
	g_autoptr(GPtrArray) sorted = sorted_copy(strings, cmp_str, len);

	for (guint i = 1; i < sorted->len; i++)
		if (strcmp(sorted->pdata[i - 1], sorted->pdata[i]) == 0)
			return ill_formed(error, what, sorted->pdata[i]);
	return true;
}

static bool check_features(const CapsInfo *info, GError **error)
{
	if (info->features->len > CAPS_MAX_FEATURES)
		return ill_formed(error, "too many features", NULL);
	for (guint i = 0; i < info->features->len; i++)
		if (!check_string(g_ptr_array_index(info->features, i), true,
				  "feature", error))
			return false;
	return check_distinct(info->features, info->features->len,
			      "duplicate feature", error);
}

static bool check_field(const Field *field, GError **error)
{
	guint n_values = field->values->len - 1; /* the NULL */

	if (!check_string(field->var, true, "field var", error))
		return false;
	if (n_values > CAPS_MAX_VALUES)
		return ill_formed(error, "too many values in", field->var);
	for (guint i = 0; i < n_values; i++)
		if (!check_string(g_ptr_array_index(field->values, i), false,
				  "field value", error))
			return false;
	return true;
}

/*
 * A form: its fields, and no var twice. XEP-0004 §3.2 makes var unique in
 * a form; §5.1 sorts by var alone, so a repeated var would leave the
 * order (and the hash) undefined: we refuse it rather than guess.
 */
static bool check_form(const Form *form, GError **error)
{
	g_autoptr(GPtrArray) vars = NULL;

	if (!check_string(form->form_type, true, "FORM_TYPE", error))
		return false;
	if (form->fields->len > CAPS_MAX_FIELDS)
		return ill_formed(error, "too many fields in", form->form_type);
	vars = g_ptr_array_sized_new(form->fields->len);
	for (guint i = 0; i < form->fields->len; i++) {
		const Field *field = g_ptr_array_index(form->fields, i);

		if (!check_field(field, error))
			return false;
		if (strcmp(field->var, "FORM_TYPE") == 0)
			return ill_formed(error, "second FORM_TYPE in",
					  form->form_type);
		g_ptr_array_add(vars, field->var);
	}
	return check_distinct(vars, vars->len, "duplicate field", error);
}

static bool check_forms(const CapsInfo *info, GError **error)
{
	g_autoptr(GPtrArray) types = NULL;

	if (info->forms->len > CAPS_MAX_FORMS)
		return ill_formed(error, "too many forms", NULL);
	types = g_ptr_array_sized_new(info->forms->len);
	for (guint i = 0; i < info->forms->len; i++) {
		const Form *form = g_ptr_array_index(info->forms, i);

		if (!check_form(form, error))
			return false;
		g_ptr_array_add(types, form->form_type);
	}
	/* §5.4 3.5 */
	return check_distinct(types, types->len, "duplicate FORM_TYPE", error);
}

bool caps_info_validate(const CapsInfo *info, GError **error)
{
	return check_identities(info, error) && check_features(info, error) &&
	       check_forms(info, error);
}

/* ---- §5.1 --------------------------------------------------------------
 */

static void append(GString *s, const char *part)
{
	g_string_append(s, part);
	g_string_append_c(s, '<');
}

static void append_form(GString *s, const Form *form)
{
	g_autoptr(GPtrArray) fields =
		sorted_copy(form->fields, cmp_field, form->fields->len);

	append(s, form->form_type); /* step 7.1 */
	for (guint i = 0; i < fields->len; i++) {
		const Field *field = g_ptr_array_index(fields, i);
		g_autoptr(GPtrArray) values = sorted_copy(
			field->values, cmp_str, field->values->len - 1);

		append(s, field->var); /* 7.3.1 */
		for (guint j = 0; j < values->len; j++)
			append(s, g_ptr_array_index(values, j)); /* 7.3.3 */
	}
}

char *caps_info_dup_hash_input(const CapsInfo *info)
{
	GString *s = g_string_new(NULL);
	g_autoptr(GPtrArray) ids = sorted_copy(info->identities, cmp_identity,
					       info->identities->len);
	g_autoptr(GPtrArray) features =
		sorted_copy(info->features, cmp_str, info->features->len);
	g_autoptr(GPtrArray) forms =
		sorted_copy(info->forms, cmp_form, info->forms->len);

	for (guint i = 0; i < ids->len; i++) { /* steps 2-3 */
		const Identity *id = g_ptr_array_index(ids, i);

		g_string_append_printf(s, "%s/%s/%s/%s<", id->category,
				       id->type, id->lang, id->name);
	}
	for (guint i = 0; i < features->len; i++) /* steps 4-5 */
		append(s, g_ptr_array_index(features, i));
	for (guint i = 0; i < forms->len; i++) /* steps 6-7 */
		append_form(s, g_ptr_array_index(forms, i));
	return g_string_free(s, FALSE);
}

char *caps_info_compute_ver(const CapsInfo *info, CapsHash hash)
{
	g_autofree char *input = caps_info_dup_hash_input(info);
	g_autoptr(GChecksum) sum = g_checksum_new(checksum_type(hash));
	guint8 digest[64];
	gsize len = sizeof(digest);

	g_checksum_update(sum, (const guchar *)input, strlen(input));
	g_checksum_get_digest(sum, digest, &len);
	/* §5.1 step 9: the binary digest, base64 without whitespace. */
	return g_base64_encode(digest, len);
}

/* ---- reading a disco#info result ---------------------------------------
 */

static bool is(const Stanza *el, const char *name, const char *ns)
{
	return strcmp(stanza_get_name(el), name) == 0 &&
	       g_strcmp0(stanza_get_ns(el), ns) == 0;
}

/* The one FORM_TYPE value of a form, NULL to skip the form (§5.4 3.6);
 * two different values: ill-formed (3.5). */
static bool form_type_of(const Stanza *x, const char **ret_type, GError **error)
{
	const char *type = NULL;

	for (Stanza *f = stanza_get_first_child(x); f;
	     f = stanza_get_next_sibling(f)) {
		if (!is(f, "field", NS_DATA_FORMS) ||
		    g_strcmp0(stanza_get_attr(f, "var"), "FORM_TYPE") != 0)
			continue;
		if (g_strcmp0(stanza_get_attr(f, "type"), "hidden") != 0)
			continue;
		for (Stanza *v = stanza_get_first_child(f); v;
		     v = stanza_get_next_sibling(v)) {
			if (!is(v, "value", NS_DATA_FORMS))
				continue;
			if (type && strcmp(type, stanza_get_text(v)) != 0)
				return ill_formed(error, "two FORM_TYPEs",
						  NULL);
			type = stanza_get_text(v);
		}
	}
	*ret_type = type;
	return true;
}

static void parse_field(CapsInfo *info, const Stanza *f)
{
	g_autoptr(GPtrArray) values = g_ptr_array_new();

	for (Stanza *v = stanza_get_first_child(f); v;
	     v = stanza_get_next_sibling(v)) {
		/* One past the cap is enough for validate to refuse it. */
		if (is(v, "value", NS_DATA_FORMS) &&
		    values->len <= CAPS_MAX_VALUES)
			g_ptr_array_add(values, (char *)stanza_get_text(v));
	}
	caps_info_add_field(info, stanza_get_attr(f, "var"),
			    (const char *const *)values->pdata, values->len);
}

static bool parse_form(CapsInfo *info, const Stanza *x, GError **error)
{
	const char *type = NULL;
	size_t n = 0;

	if (!form_type_of(x, &type, error))
		return false;
	if (type == NULL)
		return true; /* §5.4 3.6: ignore the form, go on */
	caps_info_add_form(info, type);
	for (Stanza *f = stanza_get_first_child(x); f;
	     f = stanza_get_next_sibling(f)) {
		const char *var = stanza_get_attr(f, "var");

		if (!is(f, "field", NS_DATA_FORMS))
			continue;
		if (g_strcmp0(var, "FORM_TYPE") == 0 &&
		    g_strcmp0(stanza_get_attr(f, "type"), "hidden") == 0)
			continue;
		if (++n > CAPS_MAX_FIELDS + 1)
			break; /* validate refuses it already */
		parse_field(info, f);
	}
	return true;
}

static bool parse_child(CapsInfo *info, const Stanza *el, GError **error)
{
	if (is(el, "identity", NS_DISCO_INFO)) {
		caps_info_add_identity(info, stanza_get_attr(el, "category"),
				       stanza_get_attr(el, "type"),
				       stanza_get_attr(el, "xml:lang"),
				       stanza_get_attr(el, "name"));
	} else if (is(el, "feature", NS_DISCO_INFO)) {
		caps_info_add_feature(info, stanza_get_attr(el, "var"));
	} else if (is(el, "x", NS_DATA_FORMS)) {
		return parse_form(info, el, error);
	}
	return true;
}

/* Past a cap by more than one, stop reading: validate refuses it anyway,
 * and a flood of children must not cost a flood of allocations. */
static bool over_caps(const CapsInfo *info)
{
	return info->identities->len > CAPS_MAX_IDENTITIES ||
	       info->features->len > CAPS_MAX_FEATURES ||
	       info->forms->len > CAPS_MAX_FORMS;
}

CapsInfo *caps_info_parse(const Stanza *query, GError **error)
{
	g_autoptr(CapsInfo) info = caps_info_new();

	if (query == NULL || !is(query, "query", NS_DISCO_INFO)) {
		ill_formed(error, "no disco#info <query/>", NULL);
		return NULL;
	}
	for (Stanza *el = stanza_get_first_child(query); el && !over_caps(info);
	     el = stanza_get_next_sibling(el))
		if (!parse_child(info, el, error))
			return NULL;
	if (!caps_info_validate(info, error))
		return NULL;
	return g_steal_pointer(&info);
}

/* Whether query (disco#info) has a child name whose attr is value and,
 * when attr2 is set, whose attr2 is value2. */
static bool disco_has(const Stanza *query, const char *name, const char *attr,
		      const char *value, const char *attr2, const char *value2)
{
	if (query == NULL || !is(query, "query", NS_DISCO_INFO))
		return false;
	for (Stanza *c = stanza_get_first_child(query); c;
	     c = stanza_get_next_sibling(c)) {
		if (is(c, name, NS_DISCO_INFO) &&
		    g_strcmp0(stanza_get_attr(c, attr), value) == 0 &&
		    (attr2 == NULL ||
		     g_strcmp0(stanza_get_attr(c, attr2), value2) == 0))
			return true;
	}
	return false;
}

bool caps_disco_has_feature(const Stanza *query, const char *var)
{
	return disco_has(query, "feature", "var", var, NULL, NULL);
}

bool caps_disco_has_identity(const Stanza *query, const char *category,
			     const char *type)
{
	return disco_has(query, "identity", "category", category, "type", type);
}

bool caps_verify(const Stanza *query, const char *hash, const char *ver,
		 CapsInfo **ret_info, GError **error)
{
	CapsHash algo;
	g_autoptr(CapsInfo) info = NULL;
	g_autofree char *computed = NULL;

	if (!caps_hash_from_string(hash, &algo)) {
		g_set_error(error, CAPS_ERROR, CAPS_ERROR_UNSUPPORTED_HASH,
			    "caps hash '%s' is not supported",
			    hash ? hash : "(none)");
		return false;
	}
	info = caps_info_parse(query, error);
	if (info == NULL)
		return false;
	computed = caps_info_compute_ver(info, algo);
	if (ver == NULL || strcmp(computed, ver) != 0) {
		g_set_error(error, CAPS_ERROR, CAPS_ERROR_MISMATCH,
			    "caps ver '%s' does not match its disco#info",
			    ver ? ver : "");
		return false;
	}
	if (ret_info)
		*ret_info = g_steal_pointer(&info);
	return true;
}

/* ---- building a disco#info result --------------------------------------
 */

static void build_form(Stanza *query, const Form *form)
{
	Stanza *x = stanza_add_child_new(query, "x", NS_DATA_FORMS);
	Stanza *ft = stanza_add_child_new(x, "field", NS_DATA_FORMS);

	stanza_set_attr(x, "type", "result");
	stanza_set_attr(ft, "var", "FORM_TYPE");
	stanza_set_attr(ft, "type", "hidden");
	stanza_add_child_text(ft, "value", NS_DATA_FORMS, form->form_type);
	for (guint i = 0; i < form->fields->len; i++) {
		const Field *field = g_ptr_array_index(form->fields, i);
		Stanza *f = stanza_add_child_new(x, "field", NS_DATA_FORMS);

		stanza_set_attr(f, "var", field->var);
		for (guint j = 0; j + 1 < field->values->len; j++)
			stanza_add_child_text(
				f, "value", NS_DATA_FORMS,
				g_ptr_array_index(field->values, j));
	}
}

/* Attributes that are "" are left out: that is what absent reads as. */
static void set_attr_nonempty(Stanza *el, const char *name, const char *v)
{
	if (*v != '\0')
		stanza_set_attr(el, name, v);
}

Stanza *caps_info_build_query(const CapsInfo *info, const char *node)
{
	Stanza *query = stanza_new("query", NS_DISCO_INFO);

	if (node)
		stanza_set_attr(query, "node", node);
	for (guint i = 0; i < info->identities->len; i++) {
		const Identity *id = g_ptr_array_index(info->identities, i);
		Stanza *el =
			stanza_add_child_new(query, "identity", NS_DISCO_INFO);

		stanza_set_attr(el, "category", id->category);
		stanza_set_attr(el, "type", id->type);
		set_attr_nonempty(el, "xml:lang", id->lang);
		set_attr_nonempty(el, "name", id->name);
	}
	for (guint i = 0; i < info->features->len; i++)
		stanza_set_attr(
			stanza_add_child_new(query, "feature", NS_DISCO_INFO),
			"var", g_ptr_array_index(info->features, i));
	for (guint i = 0; i < info->forms->len; i++)
		build_form(query, g_ptr_array_index(info->forms, i));
	return query;
}

/* ---- <c/> ---------------------------------------------------------------
 */

void caps_announcement_clear(CapsAnnouncement *ann)
{
	g_clear_pointer(&ann->node, g_free);
	g_clear_pointer(&ann->hash, g_free);
	g_clear_pointer(&ann->ver, g_free);
}

/* node and ver become "node#ver" (§6.2), so neither may hold a '#'. */
static bool check_c_attr(const char *value, const char *what, GError **error)
{
	if (value == NULL || *value == '\0' ||
	    strlen(value) > CAPS_MAX_STRING_BYTES || strchr(value, '#')) {
		g_set_error(error, CAPS_ERROR, CAPS_ERROR_ILL_FORMED,
			    "caps: missing or invalid '%s'", what);
		return false;
	}
	return true;
}

bool caps_announcement_check(const char *node, const char *ver, GError **error)
{
	return check_c_attr(node, "node", error) &&
	       check_c_attr(ver, "ver", error);
}

bool caps_announcement_peek(const Stanza *presence, const char **ret_node,
			    const char **ret_hash, const char **ret_ver,
			    GError **error)
{
	const Stanza *c = stanza_get_child(presence, "c", NS_CAPS);
	const char *node, *ver;

	if (c == NULL)
		return false;
	node = stanza_get_attr(c, "node");
	ver = stanza_get_attr(c, "ver");
	if (!caps_announcement_check(node, ver, error))
		return false;
	*ret_node = node;
	*ret_ver = ver;
	*ret_hash = stanza_get_attr(c, "hash");
	return true;
}

bool caps_announcement_parse(const Stanza *presence, CapsAnnouncement *ret,
			     GError **error)
{
	const char *node, *hash, *ver;

	if (!caps_announcement_peek(presence, &node, &hash, &ver, error))
		return false;
	ret->node = g_strdup(node);
	ret->ver = g_strdup(ver);
	ret->hash = g_strdup(hash);
	return true;
}

Stanza *caps_build_disco_info_query(const char *node, const char *ver)
{
	Stanza *query = stanza_new("query", NS_DISCO_INFO);
	g_autofree char *nv = g_strdup_printf("%s#%s", node, ver);

	stanza_set_attr(query, "node", nv);
	return query;
}

/* ---- our own -----------------------------------------------------------
 */

CapsOwn *caps_own_new(const char *node, bool with_blocking)
{
	CapsOwn *own;

	g_return_val_if_fail(node && *node && !strchr(node, '#'), NULL);
	own = g_new0(CapsOwn, 1);
	own->node = g_strdup(node);
	own->info = caps_info_new();
	caps_info_add_identity(own->info, OWN_CATEGORY, OWN_TYPE, NULL,
			       OWN_NAME);
	for (size_t i = 0; i < G_N_ELEMENTS(own_features); i++)
		caps_info_add_feature(own->info, own_features[i]);
	if (with_blocking)
		caps_info_add_feature(own->info, NS_BLOCKING);
	g_ptr_array_sort(own->info->features, cmp_str);
	own->ver = caps_info_compute_ver(own->info, CAPS_HASH_SHA1);
	return own;
}

void caps_own_free(CapsOwn *own)
{
	if (own == NULL)
		return;
	g_free(own->node);
	g_free(own->ver);
	caps_info_free(own->info);
	g_free(own);
}

const char *caps_own_get_node(const CapsOwn *own)
{
	return own->node;
}

const char *caps_own_get_ver(const CapsOwn *own)
{
	return own->ver;
}

const CapsInfo *caps_own_get_info(const CapsOwn *own)
{
	return own->info;
}

Stanza *caps_own_build_c(const CapsOwn *own)
{
	Stanza *c = stanza_new("c", NS_CAPS);

	stanza_set_attr(c, "hash", caps_hash_to_string(CAPS_HASH_SHA1));
	stanza_set_attr(c, "node", own->node);
	stanza_set_attr(c, "ver", own->ver);
	return c;
}

Stanza *caps_own_answer_disco_info(const CapsOwn *own, const Stanza *query,
				   GError **error)
{
	const char *node = stanza_get_attr(query, "node");
	g_autofree char *ours = NULL;

	if (node == NULL)
		return caps_info_build_query(own->info, NULL);
	ours = g_strdup_printf("%s#%s", own->node, own->ver);
	if (strcmp(node, ours) == 0)
		return caps_info_build_query(own->info, node);
	g_set_error(error, CAPS_ERROR, CAPS_ERROR_ITEM_NOT_FOUND,
		    "disco#info: no node '%s'", node);
	return NULL;
}

Stanza *caps_own_answer_disco_items(const Stanza *query)
{
	Stanza *result = stanza_new("query", NS_DISCO_ITEMS);
	const char *node = stanza_get_attr(query, "node");

	if (node)
		stanza_set_attr(result, "node", node);
	return result;
}
