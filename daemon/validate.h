/* SPDX-License-Identifier: MIT */
/*
 * The one place that judges argument values from outside the daemon (STYLE.md
 * §1 "one owner per job"): show names, text length and UTF-8, priority range,
 * JIDs. The bus layer only decodes types; the Service (and the bus tests' fake
 * Service) call these before any side effect. Every failure is
 * SERVICE_ERROR_INVALID_ARGS (org.freedesktop.DBus.Error.InvalidArgs on the
 * bus) with a message that names the argument and says what is wrong; the
 * argument's name is the caller's (e.g. "status", "options['to']").
 *
 * This file also defines the SERVICE_ERROR quark, so that the real Service
 * and its stand-in share it.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/presence.h"

/* A show we can set (not "unknown"): *ret_show on success. */
bool validate_show(const char *str, PresenceShow *ret_show, GError **error);

/* UTF-8 and at most max bytes (PRESENCE_MAX_STATUS_BYTES, ...). */
bool validate_text(const char *arg, const char *str, size_t max,
		   GError **error);

/* RFC 6121 §4.7.2.3: an integer between -128 and +127. */
bool validate_priority(int priority, GError **error);

/*
 * A JID: non-empty, UTF-8, valid (RFC 7622). Returns it normalized, the bare
 * JID unless full (then the full one). Transfer full, NULL with error.
 */
char *validate_jid(const char *arg, const char *str, bool full, GError **error);

/* What Block/Unblock take (XEP-0191, the contract): a bare JID or a
 * domain, normalized; NULL with SERVICE_ERROR_INVALID_ARGS naming arg.
 * Transfer full. */
char *validate_block_target(const char *arg, const char *str, GError **error);
