#!/usr/bin/env bash
# Start Ferry in the foreground.
#
#   scripts/run.sh BIN CONFIG   run BIN -c CONFIG (exec: signals go to Ferry)
#   scripts/run.sh BIN          local demo: a Prosody on 127.0.0.1 with the
#                               components echo.localhost, sms.localhost and
#                               irc.localhost and the account demo@localhost
#                               / demo, a Kannel with a fake SMS centre, an
#                               ngircd (plaintext), state under .demo/ (see
#                               scripts/demo.py; reply from a fake phone with
#                               scripts/demo-sms-reply, talk on IRC with
#                               scripts/demo-irc-say); Ctrl-C stops them all.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 FERRY_BINARY [CONFIG]" >&2
    exit 2
fi
bin=$1

if [[ $# -eq 2 && -n "$2" ]]; then
    exec "$bin" -c "$2"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Debian's interpreter: the one that has python3-slixmpp (used by the harness).
exec /usr/bin/python3 "$here/demo.py" "$bin"
