#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what building, testing and the demo need on Debian 12 (as root).
# Installs only packages that are missing, so a second run is quick.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config autoconf-archive
libglib2.0-dev libglib2.0-bin libxml2-dev libgnutls28-dev gnutls-bin libdbus-1-dev dbus dbus-bin
check prosody lua-unbound python3 python3-slixmpp python3-dbus python3-gi valgrind
libstrophe-dev clang libclang-rt-14-dev clang-format bash-completion
dunst xvfb xauth xserver-xorg-core xserver-xorg-video-dummy
mate-screensaver gnome-screensaver"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing packages:$missing (run as root, or install them)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# policy-rc.d keeps the packaged prosody from starting a system-wide server.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get install -y -q --no-install-recommends $missing
fi
# The other servers of the integration-test matrix (make check-matrix /
# check-server) are unpacked by scripts/test-servers.sh
# (tests/integration/README.md) when PRESENCED_TEST_SERVERS_INSTALL=1 asks
# for it: .ci/run does; a plain `make check` needs only Prosody 0.12.
if [ -n "${PRESENCED_TEST_SERVERS_INSTALL:-}" ] && [ "$(id -u)" = 0 ]; then
	sh "$(dirname "$0")/test-servers.sh"
fi
