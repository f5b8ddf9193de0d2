#!/usr/bin/env bash
# docs/fleet/ as an administrator uses it, on libvirt's test driver:
#  1. systemd's offline check of the service and the timer;
#  2. the service's command line run as systemd runs it ($VMNET_DOCTOR_CONNECT
#     from an EnvironmentFile, split into words), its status judged by the
#     unit's SuccessExitStatus;
#  3. node_exporter's textfile collector serving that file: every sample is
#     there, and no scrape error;
#  4. the Ansible playbook, with --check, over SSH (key only) to an sshd in
#     a network namespace of its own: the demo fails its host, libvirt's
#     test host passes.
# Root only (namespaces, sshd).
set -euo pipefail
bin=$(realpath "${1:?usage: tests/fleet/run.sh PATH/TO/vmnet-doctor}")
here=$(cd "$(dirname "$0")" && pwd)
docs=$here/../../docs/fleet
work=$(mktemp -d /tmp/vmnet-fleet.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -n ${FLEET_KEEP:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "fleet: $*" >&2; exit 1; }

# shellcheck source=tests/lib/wait-for-line.sh
source "$here/../lib/wait-for-line.sh"

demo_uri=$("$bin" check --demo --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["uri"])') || true
[[ $demo_uri == test://* ]] || fail "no demo URI from check --demo --json"

echo "== 1. systemd-analyze verify"
# ExecStart= is split at spaces: the program by a path without any.
ln -s "$bin" "$work/vmnet-doctor"
mkdir -p "$work/textfile"
sed -e "s|/usr/bin/vmnet-doctor|$work/vmnet-doctor|" \
    -e "s|/var/lib/prometheus/node-exporter|$work/textfile|g" \
    -e "s|/etc/vmnet-doctor/fleet.conf|$work/fleet.conf|" \
    "$docs/vmnet-doctor-fleet.service" >"$work/vmnet-doctor-fleet.service"
cp "$docs/vmnet-doctor-fleet.timer" "$work/"
out=$(cd "$work" && systemd-analyze verify --man=no vmnet-doctor-fleet.service vmnet-doctor-fleet.timer 2>&1) ||
    { echo "$out" >&2; fail "systemd-analyze verify failed"; }
# User= names an account this root does not have; anything else is a fault.
out=$(grep -v "Failed to resolve user\|User vmnet-doctor\|vmnet-doctor: No such" <<<"$out" || true)
[[ -z $out ]] || { echo "$out" >&2; fail "systemd-analyze verify complained"; }
echo "clean"

echo "== 2. the service's command, as systemd runs it"
# fleet.conf as shipped sets the one variable, to --connect= words only.
python3 - "$docs/fleet.conf" <<'PY'
import sys
lines = [l for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
assert len(lines) == 1 and lines[0].startswith("VMNET_DOCTOR_CONNECT="), lines
words = lines[0].split("=", 1)[1].split()
assert words and all(w.startswith("--connect=") for w in words), words
PY
printf 'VMNET_DOCTOR_CONNECT=--connect=test:///default --connect=%s\n' "$demo_uri" >"$work/fleet.conf"
status=0
python3 - "$work/vmnet-doctor-fleet.service" "$work/fleet.conf" <<'PY' || status=$?
# systemd's rules for what is used here: an unbraced $NAME alone in a word
# becomes the variable's words; EnvironmentFile lines are NAME=VALUE.
import os, shlex, subprocess, sys
unit, env_file = sys.argv[1], sys.argv[2]
env = dict(l.rstrip("\n").split("=", 1) for l in open(env_file) if "=" in l and not l.startswith("#"))
exec_start = [l.split("=", 1)[1].strip() for l in open(unit) if l.startswith("ExecStart=")]
assert len(exec_start) == 1, exec_start
argv = []
for word in shlex.split(exec_start[0]):
    argv += env[word[1:]].split() if word.startswith("$") else [word]
print("   ", " ".join(argv))
sys.exit(subprocess.run(argv, env=dict(os.environ, LANG="C.UTF-8")).returncode)
PY
allowed=$(sed -n 's/^SuccessExitStatus=//p' "$work/vmnet-doctor-fleet.service")
[[ " 0 $allowed " == *" $status "* ]] || fail "status $status is a failure of the unit (SuccessExitStatus=$allowed)"
[[ $status -eq 1 ]] || fail "status $status: the demo has errors, test:///default none, so 1"
[[ -s $work/textfile/vmnet-doctor.prom ]] || fail "no metrics file written"
echo "status $status (the demo's errors); $(grep -c '^vmnet_doctor_findings{' "$work/textfile/vmnet-doctor.prom") finding series"

echo "== 3. node_exporter's textfile collector"
exporter=$(command -v prometheus-node-exporter || command -v node_exporter) || fail "node_exporter is not installed"
unshare --net --fork bash -c '
    set -euo pipefail
    ip link set lo up
    "$1" --web.listen-address=127.0.0.1:9100 --collector.disable-defaults \
        --collector.textfile --collector.textfile.directory="$2/textfile" >"$2/exporter.log" 2>&1 &
    pid=$!
    trap "kill $pid" EXIT
    source "$3"
    wait_for_line "$2/exporter.log" "Listening on" "$pid"
    python3 -c "import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:9100/metrics\", timeout=30).read().decode())" >"$2/scraped.txt"
' fleet-exporter "$exporter" "$work" <(declare -f wait_for_line fail)
python3 - "$work/textfile/vmnet-doctor.prom" "$work/scraped.txt" <<'PY'
import re, sys
SAMPLE = re.compile(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)",?')
def samples(path):
    found = set()
    for line in open(path):
        match = SAMPLE.match(line.strip())
        if match:
            labels = frozenset(LABEL.findall(match.group(2) or ""))
            found.add((match.group(1), labels, float(match.group(3))))
    return found
written, served = samples(sys.argv[1]), samples(sys.argv[2])
ours = {s for s in served if s[0].startswith("vmnet_doctor_")}
assert written, "nothing written"
assert ours == written, f"served differs:\n{sorted(written ^ ours)}"
errors = [s for s in served if s[0] == "node_textfile_scrape_error"]
assert errors and all(value == 0 for _, _, value in errors), errors
print(f"{len(ours)} samples served as written; node_textfile_scrape_error 0")
PY

echo "== 4. the Ansible playbook over SSH, with --check"
mkdir -p /run/sshd "$work/home"
ssh-keygen -q -t ed25519 -N "" -f "$work/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
sed -e "s|@ADDRESS@|127.0.0.1|" -e "s|@PORT@|2222|" -e "s|@DIR@|$work|" -e "s|@PATH@|/usr/sbin:/usr/bin:/sbin:/bin|" \
    "$here/../ssh/sshd_config.in" >"$work/sshd_config"
cat >"$work/inventory.yml" <<YAML
hypervisors:
  vars:
    ansible_host: 127.0.0.1
    ansible_port: 2222
    ansible_user: root
    ansible_ssh_private_key_file: $work/client_key
    ansible_ssh_common_args: -o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=accept-new
    ansible_python_interpreter: /usr/bin/python3
    vmnet_doctor: "$bin"
  hosts:
    demo:
      vmnet_doctor_connect: "$demo_uri"
    libvirt-test-host:
      vmnet_doctor_connect: test:///default
YAML
ansible_status=0
unshare --net --fork bash -c '
    set -euo pipefail
    ip link set lo up
    /usr/sbin/sshd -D -e -f "$1/sshd_config" 2>"$1/sshd.log" &
    pid=$!
    trap "kill $pid" EXIT
    source "$3"
    wait_for_line "$1/sshd.log" "Server listening on 127.0.0.1 port 2222" "$pid"
    HOME=$1/home ANSIBLE_HOME=$1/ansible ANSIBLE_LOCAL_TEMP=$1/ansible/tmp ANSIBLE_REMOTE_TEMP=$1/remote-tmp \
        ANSIBLE_PIPELINING=true ANSIBLE_NOCOLOR=true ANSIBLE_FORCE_COLOR=false \
        ansible-playbook --check -i "$1/inventory.yml" "$2" >"$1/ansible.log" 2>&1
' fleet-ssh "$work" "$docs/vmnet-doctor-check.yml" <(declare -f wait_for_line fail) || ansible_status=$?
cat "$work/ansible.log"
# The recap: the demo's host failed on its errors, libvirt's test host passed.
grep -Eq '^demo +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=1 ' "$work/ansible.log" ||
    fail "the demo's host should fail the playbook on its errors"
grep -Eq '^libvirt-test-host +: ok=4 +changed=0 +unreachable=0 +failed=0 ' "$work/ansible.log" ||
    fail "libvirt's test host should pass every task"
grep -q 'network error(s) on demo' "$work/ansible.log" || fail "the failure should name the demo's errors"
[[ $ansible_status -eq 2 ]] || fail "ansible-playbook should exit 2 (a host failed), not $ansible_status"
echo "fleet: ok"
