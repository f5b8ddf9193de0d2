#!/usr/bin/env bash
# The lab's exposure test (tests/lab/exposure.py): TCP connect scans from
# the lab's internet before and after each helper fix, the helper's NAT
# table as the desktop user, and the posture check — in one fresh lab.
#
#   tests/lab/exposure.sh                  the test
#   tests/lab/exposure.sh --capture DIR    also writes the captures used as
#                                          fixtures into DIR
#
# Needs root (namespaces, libvirtd); run it in the Debian 13 root
# (./dev shell tests/lab/exposure.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) -eq 0 ]] || { echo "tests/lab/exposure.sh: needs root" >&2; exit 2; }

source tests/lab/env.sh --cli
exec python3 tests/lab/exposure.py "$@"
