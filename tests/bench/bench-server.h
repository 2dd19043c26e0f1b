/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's XMPP server: one connection at a time on 127.0.0.1, one
 * thread, poll(). GnuTLS runs on memory buffers so that whole floods are
 * encrypted into the output buffer before the clock starts; pumping then
 * only moves ciphertext to the socket.
 *
 * XMPP mode: stream header, STARTTLS (required), SASL SCRAM-SHA-256 or
 * SCRAM-SHA-1 (server side with GnuTLS PBKDF2/HMAC), bind, and answers to
 * the client's IQs (roster get is left to the driver; pings are answered;
 * other get/set gets service-unavailable). Direct mode (the floors): TLS
 * from the first byte, then the stream header, nothing else.
 */
#pragma once

#include <gnutls/gnutls.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _BenchServer BenchServer;

/* Stamps of the client's presence statuses "sp-<i>", for SetPresence. */
#define BENCH_SP_MAX 100000u

typedef struct {
	/* What the client did, for the driver to wait on. */
	bool tls_up;
	bool bound;
	bool eof;
	bool failed;
	char *roster_iq_id;	    /* set when the roster get arrived */
	unsigned n_client_presence; /* presence stanzas from the client */
	unsigned n_keepalive;	    /* pings and whitespace from the client */
	int64_t pong_time[8];	    /* by ping slot; 0: not yet */
	int64_t *sp_time;	    /* BENCH_SP_MAX entries */
	int64_t first_write;	    /* time of the first write() of a blob */
} BenchServerEvents;

int64_t bench_now_us(void);

/* cert_pem/key_pem: the server's certificate; borrowed for the call. */
BenchServer *bench_server_new(const char *cert_pem, const char *key_pem,
			      GError **error);
void bench_server_free(BenchServer *server);
uint16_t bench_server_get_port(const BenchServer *server);

/* Waits up to timeout_ms for a client. direct: TLS first. */
bool bench_server_accept(BenchServer *server, bool direct, int timeout_ms,
			 GError **error);
/* Closes the connection (after a best-effort flush of 200 ms). */
void bench_server_close(BenchServer *server);

BenchServerEvents *bench_server_get_events(BenchServer *server);

/* Queues data for the client (encrypting it now when TLS is up). */
void bench_server_send(BenchServer *server, const char *data, size_t len);
/* Marks the next write() as the first byte of a timed blob. */
void bench_server_mark(BenchServer *server);

/* One poll() round of at most timeout_ms: writes, reads, answers. Returns
 * false once the connection is gone. */
bool bench_server_pump(BenchServer *server, int timeout_ms);
bool bench_server_has_output(const BenchServer *server);

/* Ping slot of "bping-<tag>": tags are "s<slot>-<anything>". */
int bench_server_ping_slot(const char *id);
