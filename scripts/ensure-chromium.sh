#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is on PATH for the report's browser
# tests (internal/report/reporttest): Debian's chromium package, installed
# with apt-get when missing. The Makefile's test target runs it under
# CI=true (where a skipped browser test fails) or when BROWSER_TESTS=1.
set -euo pipefail
for b in chromium chromium-browser google-chrome; do
	if command -v "$b" >/dev/null 2>&1; then
		exit 0
	fi
done
if ! command -v apt-get >/dev/null 2>&1; then
	echo "ensure-chromium: no chromium and no apt-get; install Chromium by hand" >&2
	exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "ensure-chromium: installing Debian's chromium" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2
command -v chromium >/dev/null
