#!/bin/sh
# SPDX-License-Identifier: MIT
# Unpacks the XMPP servers of the integration-test matrix into private
# prefixes, so that two versions of one server can sit side by side and no
# system instance is ever installed, configured or started:
#
#   prosody13   Prosody 13.0.1 + prosody-modules   (bookworm-backports)
#   ejabberd    ejabberd 23.01                      (bookworm)
#   ejabberd24  ejabberd 24.12 + its erlang-p1-*    (bookworm-backports)
#   jabberd2    jabberd2 2.7                        (bookworm)
#
# (The default server, Prosody 0.12.3, is the system package from
# install-deps.sh.) Each server's package and its non-system dependencies
# (the erlang-p1-* and other non-OTP Erlang libraries, prosody-modules) are
# fetched with `apt-get download` and unpacked with `dpkg-deb -x` into
#
#   $PRESENCED_TEST_SERVERS/<name>-<version>/      (the prefix)
#   $PRESENCED_TEST_SERVERS/<id> -> <name>-<version>   (what harness.py uses)
#
# PRESENCED_TEST_SERVERS defaults to /var/cache/presenced-test-servers as
# root, else ${XDG_CACHE_HOME:-~/.cache}/presenced-test-servers. What the
# servers need from the system (the Erlang/OTP runtime, lua5.4, shared
# libraries) is installed with apt as root, with policy-rc.d denying every
# service start (erlang-base ships an epmd unit); nothing is configured.
# Backports are seen through a private apt configuration under the cache
# directory; the system's apt sources are not changed.
#
#   sh scripts/test-servers.sh                 # all four
#   sh scripts/test-servers.sh ejabberd24      # just one
#
# A second run finds the stamp files and does nothing (no network).
set -eu

if [ "$(id -u)" = 0 ]; then
	root=${PRESENCED_TEST_SERVERS:-/var/cache/presenced-test-servers}
else
	root=${PRESENCED_TEST_SERVERS:-${XDG_CACHE_HOME:-$HOME/.cache}/presenced-test-servers}
fi
servers=${*:-prosody13 ejabberd ejabberd24 jabberd2}
mirror=${PRESENCED_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# id  directory  release  packages (exact version for the server itself)
spec() {
	case "$1" in
	prosody13) echo "prosody-13.0.1 bookworm-backports prosody=13.0.1-1~bpo12+1 prosody-modules" ;;
	ejabberd) echo "ejabberd-23.01 bookworm ejabberd=23.01-1" ;;
	ejabberd24) echo "ejabberd-24.12 bookworm-backports ejabberd=24.12-3~bpo12+1" ;;
	jabberd2) echo "jabberd2-2.7 bookworm jabberd2=2.7.0-4+b2" ;;
	*) echo "test-servers: unknown server '$1'" >&2; return 1 ;;
	esac
}

# Dependencies that are never unpacked nor installed: maintainer-script
# helpers, and the packages whose only job is a system instance.
IGNORE=" adduser ucf debconf debconf-2.0 init-system-helpers lsb-base ssl-cert openssl erlang-abi prosody "

apt_dir=$root/apt
APT="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$apt_dir/sources
-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=$apt_dir/prefs
-o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache
-o Dir::State::status=/var/lib/dpkg/status -o Debug::NoLocking=1
-o APT::Sandbox::User=root"

apt_setup() {
	[ -z "${apt_ready:-}" ] || return 0
	mkdir -p "$apt_dir/sources" "$apt_dir/prefs" "$apt_dir/lists/partial" \
		"$apt_dir/cache/archives/partial" "$root/debs"
	cat >"$apt_dir/sources/debian.sources" <<-EOF
	Types: deb
	URIs: $mirror
	Suites: bookworm bookworm-updates bookworm-backports
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	# shellcheck disable=SC2086 # APT is a list of options
	apt-get $APT update -q >/dev/null
	apt_ready=1
}

# The Depends (and Pre-Depends) names of pkg, first alternative each.
depends_of() {
	# shellcheck disable=SC2086
	apt-cache $APT show "$1" 2>/dev/null | awk '
		/^$/ { exit }
		/^(Pre-)?Depends:/ {
			sub(/^[^:]*: */, ""); n = split($0, d, /, */)
			for (i = 1; i <= n; i++) { sub(/[ |(].*/, "", d[i]); print d[i] } }'
}

# pkg=version: from release if release has it, else the candidate.
pick() {
	v=""
	if [ "$2" != bookworm ]; then
		# shellcheck disable=SC2086
		v=$(apt-cache $APT madison "$1" | awk -v r="$2/" \
			'index($0, r) { gsub(/ /, ""); split($0, f, "|"); print f[2]; exit }')
	fi
	if [ -z "$v" ]; then
		# shellcheck disable=SC2086
		v=$(apt-cache $APT policy "$1" | sed -n 's/^ *Candidate: *//p')
	fi
	echo "$1=$v"
}

# Erlang packages built from the "erlang" source are OTP itself: system.
is_otp() {
	# shellcheck disable=SC2086
	apt-cache $APT show "$1" 2>/dev/null | awk '/^$/{exit} /^Source: erlang( |$)/{f=1} END{exit !f}'
}

# Fills $private (to unpack) and $system (to apt-get install) for $1 $2...
resolve() {
	release=$1
	shift
	queue="$*"
	private="" system="" seen=" "
	while [ -n "$queue" ]; do
		set -- $queue
		p=$1
		shift
		queue="$*"
		name=${p%%=*}
		case "$seen" in *" $name "*) continue ;; esac
		seen="$seen$name "
		case "$p" in
		*=*) pv=$p ;;
		*) pv=$(pick "$p" "$release") ;;
		esac
		private="$private $pv"
		for d in $(depends_of "$pv"); do
			case "$IGNORE$seen" in *" $d "*) continue ;; esac
			case "$d" in
			erlang-*)
				if is_otp "$d"; then
					case "$system" in *" $d "*) ;; *) system="$system $d " ;; esac
				else
					queue="$queue $d"
				fi ;;
			*) case "$system" in *" $d "*) ;; *) system="$system $d " ;; esac ;;
			esac
		done
	done
}

install_system() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "test-servers: missing system packages:$missing (run as root)" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	# policy-rc.d: no service of these packages (epmd) may start.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null; }
}

mkdir -p "$root"
for id in $servers; do
	s=$(spec "$id")
	set -- $s
	dir=$1 release=$2
	shift 2
	prefix=$root/$dir
	stamp=$prefix/.presenced-test-servers
	if [ -f "$stamp" ] && [ "$(sed -n 1p "$stamp")" = "$*" ]; then
		# Already unpacked; only make sure the system part is still there.
		install_system $(sed -n 3p "$stamp")
		ln -sfn "$dir" "$root/$id"
		echo "test-servers: $id: $prefix (cached)"
		continue
	fi
	apt_setup
	resolve "$release" "$@"
	echo "test-servers: $id: unpacking$private"
	rm -rf "$prefix.tmp"
	mkdir -p "$prefix.tmp"
	(
		cd "$root/debs"
		# shellcheck disable=SC2086
		apt-get $APT download -q $private >/dev/null
	)
	for p in $private; do
		n=${p%%=*} v=${p#*=}
		deb=$(ls "$root/debs/${n}_$(echo "$v" | sed 's/:/%3a/')_"*.deb)
		dpkg-deb -x "$deb" "$prefix.tmp"
		echo "$(dpkg-deb -f "$deb" Package Version | tr '\n' ' ')" >>"$prefix.tmp/.packages"
	done
	install_system $system
	printf '%s\n%s\n%s\n' "$*" "$private" "$system" >"$prefix.tmp/.presenced-test-servers"
	rm -rf "$prefix"
	mv "$prefix.tmp" "$prefix"
	ln -sfn "$dir" "$root/$id"
	echo "test-servers: $id: $prefix"
done
