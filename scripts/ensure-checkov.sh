#!/usr/bin/env bash
# Prints the path of checkov 3.3.30, the release the template test pins.
# Uses the one on PATH when it is that version; otherwise installs it (once)
# into the git-ignored virtualenv .venv-checkov from PyPI.
set -euo pipefail
CHECKOV_VERSION=3.3.30
root=$(cd "$(dirname "$0")/.." && pwd)

is_pinned() { [ "$("$1" --version 2>/dev/null)" = "$CHECKOV_VERSION" ]; }

for c in "${CHECKOV:-}" checkov "$root/.venv-checkov/bin/checkov"; do
	[ -n "$c" ] || continue
	if command -v "$c" >/dev/null 2>&1 && is_pinned "$c"; then
		command -v "$c"
		exit 0
	fi
done

echo "checkov $CHECKOV_VERSION not found; installing it into $root/.venv-checkov" >&2
python3 -m venv "$root/.venv-checkov" >&2
"$root/.venv-checkov/bin/pip" install --quiet "checkov==$CHECKOV_VERSION" >&2
is_pinned "$root/.venv-checkov/bin/checkov"
echo "$root/.venv-checkov/bin/checkov"
