#!/usr/bin/env bash
# make bench: benchmarks that print figures (they never fail on timing).
#   tests/bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
/usr/bin/python3 "$here/bench_echo.py" --bin "$build/ferry"
echo
exec /usr/bin/python3 "$here/bench_sms.py" --bin "$build/ferry"
