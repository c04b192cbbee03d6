#!/usr/bin/env bash
# Prints the path of cfn-lint 1.51.0, the release the template test pins.
# Uses the one on PATH when it is that version; otherwise installs it (once)
# into the git-ignored virtualenv .venv-cfn-lint from PyPI.
set -euo pipefail
CFN_LINT_VERSION=1.51.0
root=$(cd "$(dirname "$0")/.." && pwd)

is_pinned() { "$1" --version 2>/dev/null | grep -qx "cfn-lint $CFN_LINT_VERSION"; }

for lint in "${CFN_LINT:-}" cfn-lint "$root/.venv-cfn-lint/bin/cfn-lint"; do
	[ -n "$lint" ] || continue
	if command -v "$lint" >/dev/null 2>&1 && is_pinned "$lint"; then
		command -v "$lint"
		exit 0
	fi
done

echo "cfn-lint $CFN_LINT_VERSION not found; installing it into $root/.venv-cfn-lint" >&2
python3 -m venv "$root/.venv-cfn-lint" >&2
"$root/.venv-cfn-lint/bin/pip" install --quiet "cfn-lint==$CFN_LINT_VERSION" >&2
is_pinned "$root/.venv-cfn-lint/bin/cfn-lint"
echo "$root/.venv-cfn-lint/bin/cfn-lint"
