#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; Playwright's own browser builds
# cannot be downloaded here). A no-op when it is installed; fails loudly when it cannot be.
#
#   chromium-test.sh install    apt-get install chromium (if missing)
#   chromium-test.sh path       print the executable the tests use
set -euo pipefail

CHROMIUM=${ARGUS_TEST_CHROMIUM:-/usr/bin/chromium}

say() { printf '[chromium] %s\n' "$*"; }
die() { printf '[chromium] error: %s\n' "$*" >&2; exit 1; }

install() {
    if [ -x "$CHROMIUM" ]; then
        say "already installed ($("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM"))"
        return 0
    fi
    command -v apt-get >/dev/null || die "$CHROMIUM is missing and apt-get is not available to install it"
    [ "$(id -u)" = 0 ] || die "installing chromium needs root (apt-get)"
    say "installing chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
    [ -x "$CHROMIUM" ] || die "apt-get installed chromium but $CHROMIUM is not there"
    say "installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
}

case "${1:-}" in
    install) install ;;
    path) printf '%s\n' "$CHROMIUM" ;;
    *) echo "usage: $0 install | path" >&2; exit 2 ;;
esac
