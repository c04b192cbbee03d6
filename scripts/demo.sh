#!/usr/bin/env bash
# The demo: starts moto on a free loopback port, seeds a small fleet, stores
# the README's example stanza and runs plan, snapshot, clean and plan again
# with the real binary. No AWS account is needed or touched. Commands are
# echoed as they would be typed ("$ …", quotes included), narration as
# "# …" comments; each wait says what it waits for.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Bold commands and dim narration on a terminal only: piped or logged
# output stays plain.
if [ -t 1 ]; then bold=$'\033[1m' dim=$'\033[2m' plain=$'\033[0m'; else bold='' dim='' plain=''; fi
# say prints narration: what happens next and why, as a comment, never as
# a command to copy.
say() { printf '\n%s# %s%s\n' "$dim" "$*" "$plain"; }
# quote prints its arguments as a shell would need them typed: words with
# spaces, quotes or JSON in single quotes.
quote() {
	local out='' a
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@,+%-]+$ ]]; then
			out+=" $a"
		else
			out+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	printf '%s' "${out# }"
}
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { step "$(quote ebs-snapper "$@")"; "$bin" "$@" || echo "(exit code $?)"; }

say "preparing moto (the AWS emulator) and the ebs-snapper binary: the first run installs and compiles them, which can take a minute or two"
py=${MOTO_PYTHON:-$(scripts/ensure-moto.sh)}
bin=${EBS_SNAPPER_BIN:-$root/bin/ebs-snapper}
[ -x "$bin" ] || go build -o "$bin" ./cmd/ebs-snapper

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
# moto with one endpoint more, which seedfleet uses to date its snapshots,
# and the snapshot-lock, disabled-AMI and Recycle Bin calls it lacks.
# moto itself gets none of the caller's AWS_* settings (an AWS_ENDPOINT_URL
# there makes moto's own calls fail); they are for its clients.
unset_aws=()
for v in $(compgen -e); do [[ $v == AWS_* ]] && unset_aws+=(-u "$v"); done
env "${unset_aws[@]}" MOTO_EC2_LOAD_DEFAULT_AMIS=false "$py" -c "$(cat internal/testrig/motoserver/patch.py internal/testrig/motoserver/stage.py)" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -f "$log"' EXIT
say "waiting for moto to answer on 127.0.0.1:$port"
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

say "seeding the emulator: instances tagged backup=yes, older snapshots, orphans (go run compiles the seeder on the first run)"
go run ./cmd/seedfleet

run configure -s tagged_instances '{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours"}, "ignore": []}'
run configure -l
say "the sanity check prints one line per finding, nothing when all is well"
step "ebs-snapper configure -c"
"$bin" configure -c | grep . || echo "(no findings)"
say "what snapshot and clean would do, with a reason per decision"
run plan --region us-east-1
say "snapshot without --region takes every region the emulator reports (about 30): waiting for each to be listed"
run snapshot
run clean --region us-east-1
say "13 hours later, the next scheduled run would do this:"
run plan --region us-east-1 --now "$(date -u -d '+13 hours' +%Y-%m-%dT%H:%M:%SZ)"
say "and is every volume still protected 30 hours from now? (exit 4: late)"
run report --region us-east-1 --now "$(date -u -d '+30 hours' +%Y-%m-%dT%H:%M:%SZ)"
