#!/bin/sh
# SPDX-License-Identifier: MIT
# presencectl against tests/fake-presenced (the real bus object over a fake
# Service) on a private dbus-daemon that D-Bus-activates it: output formats
# and escaping, exit statuses 0/1/2, --help, and "not running". Speaks TAP.
set -u

builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
ctl=${PRESENCECTL:-$builddir/presencectl}
fake=$builddir/tests/fake-presenced
srcroot=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/presencectl-test.XXXXXX")
bus_pids=
n=0
failed=0

cleanup() {
	for pid in $bus_pids; do
		kill "$pid" 2>/dev/null
	done
	if [ "$failed" -ne 0 ] && [ -f "$tmp/fake.log" ]; then
		echo "# fake-presenced log:"
		sed 's/^/#   /' "$tmp/fake.log"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM PIPE

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
tab=$(printf '\t')

# start_bus NAME SERVICEDIR: a private bus; sets bus_addr.
start_bus() {
	cat > "$tmp/$1.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=$tmp</listen>
  <auth>EXTERNAL</auth>
  $2
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
	# --fork returns once the bus listens.
	dbus-daemon --config-file="$tmp/$1.conf" --fork \
		--print-address=3 --print-pid=4 \
		3>"$tmp/$1.addr" 4>"$tmp/$1.pid" 2>/dev/null || {
		echo "Bail out! cannot start dbus-daemon"
		exit 1
	}
	bus_pids="$bus_pids $(cat "$tmp/$1.pid")"
	bus_addr=$(head -n1 "$tmp/$1.addr")
}

# run ARGS...: runs presencectl; sets out, err, rc.
run() {
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# expect NAME RC EXPECTED_STDOUT ARGS...
expect() {
	name=$1 want_rc=$2 want_out=$3
	shift 3
	run "$@"
	if [ "$rc" -eq "$want_rc" ] && [ "$out" = "$want_out" ]; then
		ok "$name"
	else
		not_ok "$name"
		echo "#   presencectl $*: exit $rc (want $want_rc)"
		echo "#   stdout: $out" | sed '2,$s/^/#   /'
		echo "#   want:   $want_out" | sed '2,$s/^/#   /'
		echo "#   stderr: $err"
	fi
}

# expect_err NAME RC STDERR_SUBSTRING ARGS...
expect_err() {
	name=$1 want_rc=$2 want_err=$3
	shift 3
	run "$@"
	case $err in
	*"$want_err"*) found=1 ;;
	*) found=0 ;;
	esac
	if [ "$rc" -eq "$want_rc" ] && [ "$found" -eq 1 ] && [ -z "$out" ]; then
		ok "$name"
	else
		not_ok "$name"
		echo "#   presencectl $*: exit $rc (want $want_rc)"
		echo "#   stderr: $err (want '$want_err')"
	fi
}

# expect_log NAME LINE: fake-presenced's log holds LINE.
expect_log() {
	if grep -qxF -- "$2" "$tmp/fake.log"; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   no line '$2' in the fake-presenced log"
	fi
}

# ---- without any bus -------------------------------------------------------
export DBUS_SESSION_BUS_ADDRESS="unix:path=$tmp/no-such-socket"

expect "--help exits 0" 0 "$("$ctl" --help)" --help
case $out in
*"set SHOW [STATUS]"*status*roster*subscription\ JID*) ok "--help lists the commands" ;;
*) not_ok "--help lists the commands" ;;
esac
expect "-h is --help" 0 "$out" -h
run --version
case $out in
"presencectl "[0-9]*) [ "$rc" -eq 0 ] && ok "--version" || not_ok "--version" ;;
*) not_ok "--version" ;;
esac

expect_err "no command: usage error" 2 "no command"
expect_err "unknown command: usage error" 2 "unknown command 'frob'" frob
expect_err "unknown option: usage error" 2 "unknown option '--frob'" get --frob
expect_err "set without SHOW: usage error" 2 "wrong number" set
expect_err "set with too many arguments" 2 "wrong number" set away a b
expect_err "get with an argument" 2 "wrong number" get x
expect_err "contact without JID" 2 "wrong number" contact
expect_err "subscription without JID" 2 "wrong number" subscription
expect_err "--priority not a number" 2 "--priority" set away --priority abc
expect_err "--priority without value" 2 "needs a value" set away --priority
expect_err "--to with get" 2 "with 'set' only" get --to bob@example.net
expect_err "no session bus: exit 1" 1 "cannot connect to the session bus" get

# ---- a bus without presenced -----------------------------------------------
start_bus empty ""
export DBUS_SESSION_BUS_ADDRESS="$bus_addr"
msg="presencectl: the presenced daemon is not running (im.presenced.Presence1 has no owner)"
for cmd in get state list roster requests watch "contact bob@example.net" \
	"set away" "subscribe bob@example.net" "subscription bob@example.net"; do
	# shellcheck disable=SC2086
	run $cmd
	if [ "$rc" -eq 1 ] && [ "$err" = "$msg" ] && [ -z "$out" ]; then
		ok "not running: $cmd exits 1 with a message"
	else
		not_ok "not running: $cmd exits 1 with a message"
		echo "#   exit $rc, stderr: $err"
	fi
done

# ---- a bus that activates fake-presenced -----------------------------------
mkdir "$tmp/services"
cat > "$tmp/services/im.presenced.Presence1.service" <<SERVICE
[D-BUS Service]
Name=im.presenced.Presence1
Exec=/bin/sh -c 'exec "$fake" >>"$tmp/fake.log" 2>&1'
SERVICE
start_bus fake "<servicedir>$tmp/services</servicedir>"
export DBUS_SESSION_BUS_ADDRESS="$bus_addr"

expect "get (activates the daemon)" 0 "available${tab}${tab}0" get
expect "state" 0 "online" state
expect "status: the one-screen overview" 0 \
"     State: online
       JID: alice@example.org/laptop
  Presence: available (priority 0)
    Set by: user (you or an app)
  Contacts: 1 online, 3 in the roster
    Server: example.org
     Login: TLS 1.3, SCRAM-SHA-256-PLUS (tls-exporter)" status
expect_err "status with an argument" 2 "wrong number" status x

# Bash completion, against the same daemon (roster and requests).
# comp "WORDS" CWORD: the completions, one a line, sorted.
comp() {
	PATH="$builddir:$PATH" bash -c '. "$1" && eval "COMP_WORDS=($2)" &&
		COMP_CWORD=$3 && _presencectl &&
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ \
		"$srcroot/client/presencectl.bash-completion" "$1" "$2"
}
# expect_comp NAME "WORDS" CWORD EXPECTED
expect_comp() {
	got=$(comp "$2" "$3")
	if [ "$got" = "$4" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got: $got" | sed '2,$s/^/#   /'
	fi
}
if command -v bash >/dev/null 2>&1; then
	expect_comp "completion: verbs" "presencectl st" 1 "state
status"
	expect_comp "completion: every verb" "presencectl ''" 1 "$(printf '%s\n' \
		authorize block blocked contact deny get list remove requests \
		roster set state status subscribe subscription unblock \
		unsubscribe watch)"
	expect_comp "completion: shows of set" "presencectl set a" 2 "available
away"
	expect_comp "completion: no show for the status" \
		"presencectl set away ''" 3 ""
	expect_comp "completion: JIDs from the roster" \
		"presencectl contact ''" 2 "bob@example.net
carol@example.net
dave@example.net"
	expect_comp "completion: authorize adds the requests" \
		"presencectl authorize e" 2 "eve@example.com"
	expect_comp "completion: unblock adds the block list" \
		"presencectl unblock s" 2 "spam.example"
	expect_comp "completion: options of set" "presencectl set away --" 3 \
		"--help
--nick
--priority
--to
--version"
	expect_comp "completion: --to takes a JID" \
		"presencectl set away --to c" 4 "carol@example.net"
	expect_comp "completion: after --priority N, the show" \
		"presencectl --priority 5 set x" 4 "xa"
else
	ok "# SKIP no bash: completion not tested"
fi
expect "list: one line a contact, escaped" 0 \
"bob@example.net${tab}chat${tab}at my desk
carol@example.net${tab}offline${tab}gone home
dave@example.net${tab}unknown${tab}" list
expect "contact: the contact, then its resources" 0 \
"bob@example.net${tab}chat${tab}at my desk
desk${tab}chat${tab}at my desk${tab}-1${tab}${tab}
phone${tab}away${tab}on\\tthe\\nroad \\\\o/${tab}5${tab}phone${tab}Conversations\\t2" contact bob@example.net
expect "contact never seen: offline" 0 \
"nobody@example.net${tab}offline${tab}" contact nobody@example.net
expect "roster: groups comma-joined, commas escaped" 0 \
"bob@example.net${tab}Bob${tab}both${tab}Family,Friends\\, close
carol@example.net${tab}Carol\\nSmith${tab}to${tab}Work\\tand\\\\stuff
dave@example.net${tab}${tab}none${tab}" roster
expect "blocked: one JID a line" 0 \
"spam.example
troll@example.com" blocked
expect "block: sent to the daemon" 0 "" block Troll@Example.com
expect_log "block: the JID normalized" "block jid=troll@example.com"
expect "unblock: a domain" 0 "" unblock spam.example
expect_log "unblock: the domain" "unblock jid=spam.example"
expect_err "block: a full JID is refused" 1 "not a bare JID or domain" \
	block troll@example.com/res
expect "requests" 0 \
"eve@example.com${tab}let me\\tin\\nplease
frank@example.com${tab}" requests
expect "subscription: our request pending" 0 "none${tab}pending" \
	subscription dave@example.net
expect "subscription: JID normalized, none pending" 0 "both${tab}-" \
	subscription Bob@Example.NET
expect "subscription: not in the roster" 0 "none${tab}-" \
	subscription nobody@example.net
expect_err "subscription malformed JID: exit 1" 1 "not a valid JID" \
	subscription "@example.net"

expect "set away with status and options" 0 "" \
	set away "be right back" --priority 5 --nick Al
expect_log "set reaches the service" \
	"set_presence show=away status=be right back priority=5 nick=Al to=(null)"
expect "get after set" 0 "away${tab}be right back${tab}5" get
expect "set --opt=value forms" 0 "" set dnd --priority=-3 "--to=Bob@Example.net"
expect_log "set --to is directed presence" \
	"set_presence show=dnd status= priority=-3 nick=(null) to=bob@example.net"
expect "-- ends options" 0 "" set xa -- "-minus"
expect_log "status after --" \
	"set_presence show=xa status=-minus priority=unset:0 nick=(null) to=(null)"

expect_err "unknown show: daemon error, exit 1" 1 "busy" set busy
expect_err "priority out of range: exit 1" 1 "-128 and 127" \
	set away --priority 500
expect_err "malformed JID: exit 1" 1 "JID" set away --to "a@b@c"
big=$(head -c 1025 /dev/zero | tr '\0' x)
expect_err "status over 1024 bytes: exit 1" 1 "1025" set away "$big"

expect "subscribe" 0 "" subscribe Carol@Example.net "hi, it's me"
expect_log "subscribe reaches the service" \
	"subscribe jid=carol@example.net message=hi, it's me"
expect "unsubscribe" 0 "" unsubscribe carol@example.net
expect_log "unsubscribe reaches the service" "unsubscribe jid=carol@example.net"
expect "authorize" 0 "" authorize eve@example.com
expect_log "authorize reaches the service" \
	"authorize jid=eve@example.com allow=true"
expect "deny" 0 "" deny frank@example.com
expect_log "deny reaches the service" \
	"authorize jid=frank@example.com allow=false"
expect "remove" 0 "" remove dave@example.net
expect_log "remove reaches the service" "remove_contact jid=dave@example.net"
expect_err "subscribe malformed JID: exit 1" 1 "not a valid JID" \
	subscribe "@example.net"

# watch: one line a PresenceChanged. fake-presenced reports every
# SetPresence as a change of echo@example.net. The match is in place a
# moment after watch starts, so tick until the first line shows (bounded).
"$ctl" watch >"$tmp/watch.out" 2>"$tmp/watch.err" &
watch_pid=$!
i=0
while [ ! -s "$tmp/watch.out" ] && [ $i -lt 100 ]; do
	"$ctl" set chat "tick" >/dev/null 2>&1
	sleep 0.05
	i=$((i + 1))
done
if [ -s "$tmp/watch.out" ]; then ok "watch prints changes"; else not_ok "watch prints changes"; fi
"$ctl" set dnd "tab${tab}and
newline\\" >/dev/null 2>&1
want="echo@example.net${tab}dnd${tab}tab\\tand\\nnewline\\\\"
i=0
while ! grep -qxF -- "$want" "$tmp/watch.out" && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
if grep -qxF -- "$want" "$tmp/watch.out"; then
	ok "watch output is escaped and flushed"
else
	not_ok "watch output is escaped and flushed"
	sed 's/^/#   /' "$tmp/watch.out"
fi
if grep -qvE "^echo@example.net${tab}(chat${tab}tick|dnd${tab}.*)\$" "$tmp/watch.out"; then
	not_ok "watch prints only PresenceChanged lines"
else
	ok "watch prints only PresenceChanged lines"
fi
kill -INT "$watch_pid"
wait "$watch_pid"
rc=$?
if [ "$rc" -eq 0 ]; then ok "watch exits 0 on SIGINT"; else not_ok "watch exits 0 on SIGINT (exit $rc)"; fi
"$ctl" watch >"$tmp/watch2.out" 2>&1 &
watch_pid=$!
i=0
while [ ! -s "$tmp/watch2.out" ] && [ $i -lt 100 ]; do
	"$ctl" set chat "tick" >/dev/null 2>&1
	sleep 0.05
	i=$((i + 1))
done
kill -TERM "$watch_pid"
wait "$watch_pid"
rc=$?
if [ "$rc" -eq 0 ]; then ok "watch exits 0 on SIGTERM"; else not_ok "watch exits 0 on SIGTERM (exit $rc)"; fi

# watch believes only the name's owner (issue #12): a PresenceChanged sent
# straight to watch's unique name by another client is not printed.
"$ctl" watch >"$tmp/watch3.out" 2>&1 &
watch_pid=$!
i=0
while [ ! -s "$tmp/watch3.out" ] && [ $i -lt 100 ]; do
	"$ctl" set chat "tick" >/dev/null 2>&1
	sleep 0.05
	i=$((i + 1))
done
bus_call() {
	method=$1
	shift
	# Debug logging (G_MESSAGES_DEBUG) would go to stdout.
	G_MESSAGES_DEBUG= gdbus call --session --dest org.freedesktop.DBus \
		--object-path /org/freedesktop/DBus \
		--method "org.freedesktop.DBus.$method" "$@" 2>/dev/null
}
watch_name=
for name in $(bus_call ListNames | grep -o "':[0-9.]*'" | tr -d "'"); do
	pid=$(bus_call GetConnectionUnixProcessID "$name" |
		sed 's/.*uint32 \([0-9]*\).*/\1/')
	[ "$pid" = "$watch_pid" ] && watch_name=$name
done
if [ -z "$watch_name" ]; then
	not_ok "watch ignores signals from others (watch's bus name not found)"
else
	G_MESSAGES_DEBUG= gdbus emit --session --dest "$watch_name" \
		--object-path /im/presenced/Presence1 \
		--signal im.presenced.Presence1.PresenceChanged \
		"'mallory@evil.example'" "'chat'" "'forged'" >/dev/null 2>&1
	# A genuine change after it: once that shows, the forged one had
	# its chance.
	"$ctl" set away "after the forgery" >/dev/null 2>&1
	want="echo@example.net${tab}away${tab}after the forgery"
	i=0
	while ! grep -qxF -- "$want" "$tmp/watch3.out" && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if grep -qxF -- "$want" "$tmp/watch3.out" &&
		! grep -q mallory "$tmp/watch3.out"; then
		ok "watch ignores signals from others than the name's owner"
	else
		not_ok "watch ignores signals from others than the name's owner"
		sed 's/^/#   /' "$tmp/watch3.out"
	fi
fi
kill -TERM "$watch_pid"
wait "$watch_pid"

echo "1..$n"
[ "$failed" -eq 0 ]
