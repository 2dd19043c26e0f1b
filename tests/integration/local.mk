# SPDX-License-Identifier: MIT
# Integration tests: a throwaway Prosody on 127.0.0.1, a private session
# bus, presenced and presencectl from the build tree (harness.py). Each
# script prints TAP; without Prosody it reports SKIP, which CI fails.
integration_tests = \
	tests/integration/test-harness.py \
	tests/integration/test-login.py \
	tests/integration/test-presence.py \
	tests/integration/test-failures.py \
	tests/integration/test-lifecycle.py \
	tests/integration/test-reconnect.py \
	tests/integration/test-resume.py \
	tests/integration/test-roster.py \
	tests/integration/test-cli.py \
	tests/integration/test-desktop.py

TESTS += $(integration_tests)
dist_check_SCRIPTS += $(integration_tests)
EXTRA_DIST += \
	tests/integration/harness.py \
	tests/integration/peer.py \
	tests/integration/demo.py \
	tests/integration/fake-desktop.py \
	scripts/demo.sh \
	scripts/run-tests.sh
