/* SPDX-License-Identifier: MIT */
/*
 * The bytes of the benchmark, generated before any clock starts: a roster
 * result of N items, a flood of N contacts × R resources of realistic
 * (~500-byte) presence, M show/status updates, and the server's pings.
 * Every subject (presenced, the libstrophe tracker, the floors) gets the
 * same plaintext.
 */
#pragma once

#include <glib.h>

#define BENCH_DOMAIN "bench.test"
#define BENCH_USER "bench"
#define BENCH_PASSWORD "bench-password-not-secret"
#define BENCH_FULL_JID BENCH_USER "@" BENCH_DOMAIN "/bench"

/* <iq type='result'> with the roster of n items. Transfer full. */
GString *bench_wire_roster(const char *iq_id, unsigned n);

/* n contacts × r resources of available presence, contact-major (as a
 * server sends them after initial presence). Transfer full. */
GString *bench_wire_flood(unsigned n, unsigned r);

/* m updates of show and status, round-robin over the n contacts'
 * first resource. Transfer full. */
GString *bench_wire_updates(unsigned n, unsigned m);

/* What the contract's aggregation leaves after the flood of n × r and m
 * updates: for contact i, element i is "show<TAB>status" (show as on the
 * bus: "available" for none). Transfer full. */
GPtrArray *bench_wire_expected(unsigned n, unsigned r, unsigned m);

/* The bare JID of contact i (as the flood sends it). */
#define BENCH_CONTACT_FMT "contact%06u@" BENCH_DOMAIN

/* One available presence of contact 0, resource 0, whose status is
 * "lat-<index>" (the PresenceChanged latency probe). */
GString *bench_wire_probe(unsigned index);
/* Contact 0's resource 0 with status "end-<index>": sent after a blob, its
 * signal follows every signal the blob caused (one sender, in order). The
 * updates that follow overwrite that resource, so the table is unchanged. */
GString *bench_wire_sentinel(unsigned index);

/* An XEP-0199 ping from the server with id "bping-<tag>". */
void bench_wire_append_ping(GString *out, const char *tag);

/* The stream header a server sends (for the floors' parsers too). */
#define BENCH_STREAM_HEADER                                                    \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:client'"            \
	" xmlns:stream='http://etherx.jabber.org/streams' from='" BENCH_DOMAIN \
	"' id='s1' version='1.0' xml:lang='en'>"
