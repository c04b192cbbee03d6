#!/usr/bin/env bash
# Prints the path of a python3 that has moto 5.2.1 with its server extras.
# Uses the machine's python3 when it already has that version; otherwise
# creates (once) a git-ignored virtualenv in .venv and installs the pinned
# version from PyPI. Everything else the tests need comes from go.mod.
set -euo pipefail
MOTO_VERSION=5.2.1
root=$(cd "$(dirname "$0")/.." && pwd)

has_moto() {
	"$1" - <<PY >/dev/null 2>&1
import moto, moto.server, flask, werkzeug
assert moto.__version__ == "$MOTO_VERSION", moto.__version__
PY
}

for py in "${MOTO_PYTHON:-}" python3 "$root/.venv/bin/python"; do
	[ -n "$py" ] || continue
	if command -v "$py" >/dev/null 2>&1 && has_moto "$py"; then
		command -v "$py"
		exit 0
	fi
done

echo "moto $MOTO_VERSION not found; installing it into $root/.venv" >&2
python3 -m venv "$root/.venv" >&2
"$root/.venv/bin/pip" install --quiet "moto[server]==$MOTO_VERSION" >&2
has_moto "$root/.venv/bin/python"
echo "$root/.venv/bin/python"
