#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests, if it is missing.
# Playwright's own browser download cannot reach its host from this network, so the tests drive
# /usr/bin/chromium instead. Safe to run repeatedly: it does nothing when chromium is already there.
set -euo pipefail

CHROMIUM="${TRUST_CHROMIUM:-/usr/bin/chromium}"

if [[ -x "$CHROMIUM" ]]; then
    echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $CHROMIUM is missing and there is no apt-get here; install chromium with your package manager" \
        "(or set TRUST_CHROMIUM to its path)" >&2
    exit 1
fi

if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "error: installing chromium needs root (or sudo): apt-get install -y chromium" >&2
    exit 1
fi

echo "installing chromium (Debian package) ..."
started=$SECONDS
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
if [[ ! -x "$CHROMIUM" ]]; then
    echo "error: installed Debian's chromium, but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "chromium: $("$CHROMIUM" --version 2>/dev/null) (installed in $((SECONDS - started)) s)"
