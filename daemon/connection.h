/* SPDX-License-Identifier: MIT */
/*
 * The TCP connection to the XMPP server: the only code that touches
 * sockets (STYLE.md §1). It finds the server (configured host, or the SRV
 * records of RFC 6120 §3.2 / XEP-0368), connects without blocking, then
 * moves raw bytes between the socket and a byte sink (the I/O-free
 * XmppSession in the daemon, a fake in tests) and keeps the sink's timer.
 * TLS is not done here: it lives inside the session.
 */
#pragma once

#include <gio/gio.h>
#include <stdbool.h>
#include <stdint.h>

#define CONNECTION_ERROR (connection_error_quark())
GQuark connection_error_quark(void);

typedef enum {
	CONNECTION_ERROR_NO_SERVICE, /* SRV target "." (RFC 2782) */
	CONNECTION_ERROR_CONNECT,    /* no address could be reached */
	CONNECTION_ERROR_IO,	     /* read or write failed after connecting */
	CONNECTION_ERROR_CLOSED,     /* the peer closed the connection */
	CONNECTION_ERROR_TIMED_OUT,  /* no connection within total_timeout */
} ConnectionError;

/*
 * What the connection drives: in the daemon the XmppSession itself
 * (session-sink.h), a fake in tests. Every function gets the sink pointer
 * given to connection_new(); now is g_get_monotonic_time() (microseconds).
 * Output the sink queues while the connection is not dispatching is
 * announced with connection_schedule_flush().
 */
typedef struct {
	void (*start)(void *sink, int64_t now);
	void (*feed)(void *sink, const char *data, size_t len, int64_t now);
	void (*eof)(void *sink, const GError *error);
	void (*take_output)(void *sink, GByteArray *out);
	/* Monotonic microseconds of the next timer, INT64_MAX when none. */
	int64_t (*get_deadline)(void *sink);
	void (*tick)(void *sink, int64_t now);
} ConnectionSinkFuncs;

typedef struct {
	/*
	 * TCP is up to host (the name connected to, for messages); the sink's
	 * start() is called right after. May be NULL.
	 */
	void (*connected)(void *user_data, const char *host);
	/*
	 * No connection could be made (look-up or connect failed for every
	 * target). The message names the domain and the hosts tried. The
	 * sink was never started. This is the connection's last act, so
	 * the owner may free it from inside the callback.
	 */
	void (*failed)(void *user_data, const GError *error);
	/*
	 * May be NULL. Asked after each chunk fed to the sink: while true,
	 * reading stops (re-checked every CONNECTION_CONGESTION_RETRY_MS), so
	 * what the sink produces for others can drain first.
	 */
	bool (*congested)(void *user_data);
	/*
	 * May be NULL. The socket had nothing more to read and everything
	 * read was fed (and its answers flushed): a batch of input is
	 * complete, so what waits for the end of one (the bus's signals) can
	 * go now. Not called while more input is waiting. Must not free
	 * the connection.
	 */
	void (*input_drained)(void *user_data);
} ConnectionCallbacks;

#define CONNECTION_CONGESTION_RETRY_MS 10

typedef struct {
	const char *domain; /* the JID's domain: SRV look-up, messages */
	const char *server; /* NULL: SRV look-up; else connect here */
	unsigned port;	    /* 0: 5222, or 5223 for direct TLS */
	bool direct_tls;    /* XEP-0368: _xmpps-client._tcp */
	/* Per-address connect timeout, microseconds; 0: 10 s. */
	int64_t connect_timeout;
	/*
	 * Bound on look-up plus every connect attempt, microseconds; 0: 30 s.
	 * A resolver that never answers must not leave us "connecting".
	 */
	int64_t total_timeout;
	/*
	 * Output the socket has not taken yet, at most; past it the server
	 * counts as gone (the sink's eof with CONNECTION_ERROR_IO). Bytes;
	 * 0: CONNECTION_DEFAULT_MAX_OUTPUT.
	 */
	size_t max_output;
} ConnectionConfig;

/* 2 MiB: far above any burst of ours (a login sends a few KiB), far
 * below the RSS budget of 96 MiB. */
#define CONNECTION_DEFAULT_MAX_OUTPUT ((size_t)2 * 1024 * 1024)

typedef struct _Connection Connection;

/*
 * Starts resolving and connecting in the thread-default main context at
 * once. sink and user_data are borrowed and must outlive the connection.
 * The sink's functions must not free the connection (the daemon tears it
 * down from an idle once the session has closed). Transfer full.
 */
Connection *connection_new(const ConnectionConfig *config,
			   const ConnectionSinkFuncs *funcs, void *sink,
			   const ConnectionCallbacks *callbacks,
			   void *user_data);
/*
 * Cancels whatever is in progress, writes what output can be written
 * without blocking, closes the socket. NULL-safe. Never calls back.
 */
void connection_free(Connection *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Connection, connection_free)

/*
 * The sink's output-ready notification: output is waiting, so one flush
 * (take the sink's output, write what the socket accepts, re-arm the
 * timer) runs from the main loop soon. Idempotent until that flush runs;
 * the flush at the end of every dispatch of the connection's own (input,
 * timer, writable) also serves it. Does nothing before the connection is
 * up (it flushes once the sink has started) or after the stream ended.
 */
void connection_schedule_flush(Connection *conn);

/* Runs the flush connection_schedule_flush() asked for now, if one is
 * still pending (after a D-Bus call or desktop signal, before its reply). */
void connection_flush_scheduled(Connection *conn);

bool connection_is_connected(const Connection *conn);
/* The host connected to (or being tried), NULL before. Transfer none. */
const char *connection_get_host(const Connection *conn);

/* RFC 6120 §3.2.1 fallback port, and the XEP-0368 one for direct TLS. */
#define CONNECTION_DEFAULT_PORT 5222
#define CONNECTION_DEFAULT_TLS_PORT 5223
