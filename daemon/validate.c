/* SPDX-License-Identifier: MIT */
/*
 * Argument validation for the Service, with the messages users see on the
 * bus (see the header).
 */
#include "config.h"

#include <string.h>

#include "core/blocking.h"
#include "core/jid.h"
#include "daemon/service.h"
#include "daemon/validate.h"

G_DEFINE_QUARK(presenced - service - error - quark, service_error)

static bool invalid(GError **error, const char *format, ...)
	G_GNUC_PRINTF(2, 3);
static bool invalid(GError **error, const char *format, ...)
{
	va_list ap;

	if (error) {
		va_start(ap, format);
		*error = g_error_new_valist(
			SERVICE_ERROR, SERVICE_ERROR_INVALID_ARGS, format, ap);
		va_end(ap);
	}
	return false;
}

bool validate_show(const char *str, PresenceShow *ret_show, GError **error)
{
	bool utf8 = str && g_utf8_validate(str, -1, NULL);
	PresenceShow show;

	if (!utf8 || !presence_show_from_string(str, false, &show))
		return invalid(error,
			       "Argument show: unknown show '%.100s': expected "
			       "one of available, chat, away, xa, dnd, offline",
			       utf8 ? str : "");
	*ret_show = show;
	return true;
}

bool validate_text(const char *arg, const char *str, size_t max, GError **error)
{
	size_t len;

	if (!str || !g_utf8_validate(str, -1, NULL))
		return invalid(error, "Argument %s is not valid UTF-8", arg);
	len = strlen(str);
	if (len > max)
		return invalid(error,
			       "Argument %s is %zu bytes long: at most %zu "
			       "bytes are allowed",
			       arg, len, max);
	return true;
}

bool validate_priority(int priority, GError **error)
{
	if (priority < -128 || priority > 127)
		return invalid(error,
			       "Option 'priority' is %d: it must be between "
			       "-128 and 127",
			       priority);
	return true;
}

char *validate_jid(const char *arg, const char *str, bool full, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(Jid) jid = NULL;

	if (!str || !g_utf8_validate(str, -1, NULL)) {
		(void)invalid(error, "Argument %s is not valid UTF-8", arg);
		return NULL;
	}
	if (str[0] == '\0') {
		(void)invalid(error, "Argument %s is empty: expected a JID",
			      arg);
		return NULL;
	}
	jid = jid_parse(str, &local);
	if (!jid) {
		(void)invalid(error,
			      "Argument %s: '%.200s' is not a valid JID: %s",
			      arg, str, local->message);
		return NULL;
	}
	return g_strdup(full ? jid_get_full(jid) : jid_get_bare(jid));
}

char *validate_block_target(const char *arg, const char *str, GError **error)
{
	g_autoptr(GError) local = NULL;
	char *target;

	if (!str || !g_utf8_validate(str, -1, NULL)) {
		(void)invalid(error, "Argument %s is not valid UTF-8", arg);
		return NULL;
	}
	target = blocking_normalize_target(str, &local);
	if (!target)
		(void)invalid(error,
			      "Argument %s: '%.200s' is not a bare JID or "
			      "domain: %s",
			      arg, str, local->message);
	return target;
}
