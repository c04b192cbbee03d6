#!/usr/bin/env bash
# The demo: starts moto on a free loopback port, seeds a small fleet, stores
# the README's example stanza and runs plan, snapshot, clean and plan again
# with the real binary. No AWS account is needed or touched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${MOTO_PYTHON:-$(scripts/ensure-moto.sh)}
bin=${EBS_SNAPPER_BIN:-$root/bin/ebs-snapper}
[ -x "$bin" ] || go build -o "$bin" ./cmd/ebs-snapper

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
# moto with one endpoint more, which seedfleet uses to date its snapshots.
MOTO_EC2_LOAD_DEFAULT_AMIS=false "$py" internal/motoserver/stage.py -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -f "$log"' EXIT
"$py" - "$port" <<'PY' || { cat "$log"; exit 1; }
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("moto did not start")
PY

# Only the emulator: static credentials, no profile, no instance metadata.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

# Bold headings on a terminal only: piped or logged output stays plain.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { step "ebs-snapper $*"; "$bin" "$@" || echo "(exit code $?)"; }

step "seed the emulator (moto on 127.0.0.1:$port)"
go run ./cmd/seedfleet

run configure -s tagged_instances '{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours"}, "ignore": []}'
run configure -l
step "ebs-snapper configure -c   # sanity check: prints one line per finding"
"$bin" configure -c | grep . || echo "(no findings)"
run plan --region us-east-1
run snapshot
run clean --region us-east-1
step "13 hours later, the next scheduled run would do this:"
run plan --region us-east-1 --now "$(date -u -d '+13 hours' +%Y-%m-%dT%H:%M:%SZ)"
step "and is every volume still protected 30 hours from now? (exit 4: late)"
run report --region us-east-1 --now "$(date -u -d '+30 hours' +%Y-%m-%dT%H:%M:%SZ)"
