/* SPDX-License-Identifier: MIT */
/*
 * The Service's part of the login (issues #11 and #16): what a session is
 * told before it logs in (the "SCRAM worked" mark is read in
 * service_connect_now; here the XEP-0388 user-agent id and a kept
 * XEP-0484 token), and what a login teaches afterwards: the
 * Authentication property, the mark, a new or refused token, and legacy
 * SASL after SASL2 broke. The state lives in account-state.c's file.
 */
#include "config.h"

#include <string.h>

#include "core/tls-session.h"
#include "core/xmpp-session.h"
#include "daemon/account-state.h"
#include "daemon/service-private.h"

/* "TLS 1.3, SCRAM-SHA-1-PLUS (tls-exporter), XEP-0474 checked, SASL2,
 * Bind2"; with a token "TLS 1.3, HT-SHA-256-EXPR (tls-exporter), SASL2,
 * FAST token, Bind2". */
static char *describe_auth(const XmppAuthInfo *info, bool resumed)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(
		s, "TLS %s, %s",
		tls_session_version_to_string(info->tls_version),
		info->fast ? fast_mechanism_to_string(info->fast)
			   : sasl_mechanism_to_string(info->mechanism));
	if (info->binding)
		g_string_append_printf(
			s, " (%s)",
			sasl_channel_binding_to_string(info->binding));
	if (info->downgrade_checked)
		g_string_append(s, ", XEP-0474 checked");
	if (info->sasl2)
		g_string_append(s, ", SASL2");
	if (info->fast)
		g_string_append(s, ", FAST token");
	if (info->bind2)
		g_string_append(s, ", Bind2");
	if (resumed)
		g_string_append(s, info->sm_inline
					   ? ", resumed (XEP-0198 in SASL2)"
					   : ", resumed (XEP-0198)");
	return g_string_free(s, FALSE);
}

/*
 * XEP-0484: what the login taught about the token. A refused one is
 * forgotten (the next login uses the password, once); a new one (first
 * login, rotation) replaces it. Never logged.
 */
static void keep_fast_token(Service *service)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *token = NULL;
	g_autofree char *expiry = NULL;
	FastMechanism mech;
	XmppAuthHints hints;

	xmpp_session_get_auth_hints(service->session, &hints);
	if (hints.fast_refused && !account_state_forget_fast_token(
					  NULL, service->config->jid, &error)) {
		g_warning("cannot forget the FAST token of %s: %s",
			  service->config->jid, error->message);
		g_clear_error(&error);
	}
	if (!xmpp_session_steal_fast_token(service->session, &token, &mech,
					   &expiry))
		return;
	if (!account_state_set_fast_token(NULL, service->config->jid, token,
					  fast_mechanism_to_string(mech),
					  expiry, &error))
		g_warning("cannot keep the FAST token of %s: %s",
			  service->config->jid, error->message);
	else
		g_debug("kept a FAST token (%s, expires %s)",
			fast_mechanism_to_string(mech), *expiry ? expiry : "?");
	explicit_bzero(token, strlen(token));
}

/* Publishes how we authenticated (Authentication) and keeps the "SCRAM
 * worked" mark, so a later PLAIN-only offer is refused as a downgrade. */
void service_auth_remember(Service *service, bool resumed)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	XmppAuthInfo info;

	xmpp_session_get_auth_info(service->session, &info);
	text = describe_auth(&info, resumed);
	keep_fast_token(service);
	if (info.sasl2)
		g_debug("logged in with SASL2 (XEP-0388)%s%s%s",
			info.fast ? ", a FAST token (XEP-0484)" : "",
			info.bind2 ? ", Bind2 (XEP-0386)" : "",
			resumed ? ", resumed" : "");
	g_debug("authenticated with %s%s%s over TLS %s%s",
		info.fast ? fast_mechanism_to_string(info.fast)
			  : sasl_mechanism_to_string(info.mechanism),
		info.binding ? " bound to " : "",
		sasl_channel_binding_to_string(info.binding),
		tls_session_version_to_string(info.tls_version),
		info.downgrade_checked ? ", downgrade protection checked" : "");
	service_set_string(service, &service->authentication, text,
			   "Authentication");
	if (!sasl_mechanism_is_scram(info.mechanism))
		return;
	if (!account_state_mark_scram_worked(NULL, service->config->jid,
					     &error))
		g_warning("cannot remember that SCRAM works for %s: %s",
			  service->config->jid, error->message);
}

/* A login that did not get online: SASL2 broken here → legacy from
 * now on; a refused token → forgotten. Neither repeats. A session that
 * got online (still the State as it ends) had its lessons taken by
 * service_auth_remember: taking them again would forget the token that
 * replaced a refused one in the same stream. */
void service_auth_learn(Service *service)
{
	g_autoptr(GError) error = NULL;
	XmppAuthHints hints;

	if (service->state == SERVICE_STATE_ONLINE)
		return;
	xmpp_session_get_auth_hints(service->session, &hints);
	if (hints.sasl2_failed && !service->legacy_sasl_only) {
		g_info("SASL2 failed for %s; using legacy SASL from now on",
		       service->config->jid);
		service->legacy_sasl_only = true;
	}
	if (hints.fast_refused && !account_state_forget_fast_token(
					  NULL, service->config->jid, &error))
		g_warning("cannot forget the FAST token of %s: %s",
			  service->config->jid, error->message);
}

/* An expiry we cannot read counts as valid: the server decides. */
static bool fast_token_expired(const char *expiry)
{
	g_autoptr(GDateTime) when = NULL;
	g_autoptr(GDateTime) now = NULL;

	if (!expiry || !*expiry)
		return false;
	when = g_date_time_new_from_iso8601(expiry, NULL);
	if (!when)
		return false;
	now = g_date_time_new_now_utc();
	return g_date_time_compare(when, now) <= 0;
}

/*
 * XEP-0388's user-agent id names one client, and servers act on it:
 * ejabberd 24.12 replaces the session of a client that logs in again
 * with the same id. Two daemons of one installation on one account (two
 * configs, two resources) are two clients, so the id is a name-based
 * UUID (RFC 9562 version 5 layout, SHA-1) of the installation's random
 * UUID, the account and the configured resource: stable across restarts
 * of one daemon, different for another.
 */
static char *client_user_agent_id(const Settings *config, GError **error)
{
	g_autofree char *installation =
		account_state_dup_user_agent_id(NULL, error);
	g_autoptr(GChecksum) sha1 = NULL;
	guint8 d[20];
	gsize len = sizeof d;

	if (!installation)
		return NULL;
	sha1 = g_checksum_new(G_CHECKSUM_SHA1);
	g_checksum_update(sha1, (const guchar *)installation, -1);
	g_checksum_update(sha1, (const guchar *)"\n", 1);
	g_checksum_update(sha1, (const guchar *)config->jid, -1);
	g_checksum_update(sha1, (const guchar *)"/", 1);
	if (config->resource)
		g_checksum_update(sha1, (const guchar *)config->resource, -1);
	g_checksum_get_digest(sha1, d, &len);
	d[6] = (guint8)((d[6] & 0x0f) | 0x50);
	d[8] = (guint8)((d[8] & 0x3f) | 0x80);
	return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			       "%02x%02x%02x%02x%02x%02x",
			       d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
			       d[8], d[9], d[10], d[11], d[12], d[13], d[14],
			       d[15]);
}

void service_auth_prepare(Service *service, XmppSessionConfig *scfg,
			  ServiceLoginSecrets *secrets)
{
	g_autoptr(GError) error = NULL;

	/* XEP-0388 user-agent and XEP-0484 token (CONTRACT.md
	 * "Authentication"): without a kept id, no FAST. */
	secrets->ua_id = client_user_agent_id(service->config, &error);
	if (!secrets->ua_id) {
		g_warning("cannot keep a user-agent id: %s; logging in "
			  "without FAST",
			  error->message);
		g_clear_error(&error);
	}
	scfg->user_agent_id = secrets->ua_id;
	if (secrets->ua_id &&
	    account_state_get_fast_token(NULL, service->config->jid,
					 &secrets->token, &secrets->token_mech,
					 &secrets->expiry)) {
		if (fast_token_expired(secrets->expiry)) {
			g_debug("the FAST token expired (%s); logging in "
				"with the password",
				secrets->expiry);
			(void)account_state_forget_fast_token(
				NULL, service->config->jid, NULL);
		} else {
			scfg->fast_token = secrets->token;
			scfg->fast_mechanism = secrets->token_mech;
		}
	}
}

void service_login_secrets_clear(ServiceLoginSecrets *secrets)
{
	if (secrets->token)
		explicit_bzero(secrets->token, strlen(secrets->token));
	g_clear_pointer(&secrets->ua_id, g_free);
	g_clear_pointer(&secrets->token, g_free);
	g_clear_pointer(&secrets->token_mech, g_free);
	g_clear_pointer(&secrets->expiry, g_free);
}
