#!/usr/bin/env bash
# make bench: benchmarks that print figures (they never fail on timing).
#   tests/bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
/usr/bin/python3 "$here/bench_echo.py" --bin "$build/ferry"
echo
/usr/bin/python3 "$here/bench_sms.py" --bin "$build/ferry"
echo
# IRC through Prosody and ngircd, beside Debian's biboumi when it is (or can
# be) installed: several minutes.
exec /usr/bin/python3 "$here/bench_irc.py" --bin "$build/ferry"
