#!/usr/bin/env bash
# Install the Debian packages Ferry needs; quiet and fast (< 1 s) when they
# are all present already.
#
#   scripts/deps.sh                 build + test/demo dependencies (default)
#   scripts/deps.sh --build-only    only what `make` needs (Docker builder stage)
#   scripts/deps.sh --runtime-only  only the shared libraries the binary links
#                                   (Docker runtime stage)
#
# Installing prosody or ejabberd with apt would start their system services
# on the default ports; while installing, /usr/sbin/policy-rc.d forbids that
# (exit 101).  The file is removed afterwards only if this script made it.
set -euo pipefail

BUILD_PKGS=(build-essential pkg-config libstrophe-dev libevent-dev libcurl4-openssl-dev
    libcjson-dev libconfig-dev libssl-dev libsqlite3-dev libcmocka-dev clang clang-format
    libclang-rt-14-dev)
# kannel: bearerbox + smsbox; kannel-extras: the fake SMSC client
# (/usr/lib/kannel/test/fakesmsc) of the SMS e2e tests.
# ngircd: the IRC server of the IRC e2e tests; openssl: the CLI that makes
# their throwaway test CA and certificates (tests/e2e/harness_irc.py).
TEST_PKGS=(prosody lua-unbound ejabberd python3-slixmpp curl sqlite3 kannel kannel-extras
    ngircd openssl)
# ca-certificates: libcurl (SMS providers' HTTPS APIs) and IRC over TLS
# verify peers against it; libcurl4 only recommends it.
RUNTIME_PKGS=(libstrophe0 libevent-2.1-7 libevent-openssl-2.1-7 libcurl4 libcjson1 libconfig9
    libssl3 libsqlite3-0 ca-certificates)

usage() {
    echo "usage: $0 [--build-only | --runtime-only]" >&2
    exit 2
}

mode=all
case "${1:-}" in
"") ;;
--build-only) mode=build ;;
--runtime-only) mode=runtime ;;
-h | --help) usage ;;
*) usage ;;
esac
[[ $# -le 1 ]] || usage

case "$mode" in
all) wanted=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
build) wanted=("${BUILD_PKGS[@]}") ;;
runtime) wanted=("${RUNTIME_PKGS[@]}") ;;
esac

# One dpkg-query for every package: "ii " marks an installed one.  Packages
# dpkg has never heard of are not printed at all (dpkg-query then exits 1).
declare -A installed=()
if command -v dpkg-query >/dev/null 2>&1; then
    while read -r status name; do
        [[ "$status" == ii ]] && installed["$name"]=1
    done < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${wanted[@]}" 2>/dev/null || true)
else
    echo "deps.sh: dpkg-query not found: this script supports Debian 12 only" >&2
    exit 1
fi

missing=()
for p in "${wanted[@]}"; do
    [[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
fi

echo "deps.sh: installing ${missing[*]}" >&2

POLICY=/usr/sbin/policy-rc.d
made_policy=0
cleanup() {
    if [[ $made_policy -eq 1 ]]; then
        "${SUDO[@]}" rm -f "$POLICY"
    fi
}
trap cleanup EXIT
if [[ ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\n# temporary, from Ferry scripts/deps.sh: no service starts\nexit 101\n' |
        "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
echo "deps.sh: done" >&2
