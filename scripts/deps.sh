#!/bin/sh
# Install the build and test packages this project needs on Debian, when they are missing
# (or the packages named as arguments: `make deb` asks for its packaging tools so).
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -u
PKGS="${*:-build-essential pkg-config libsodium-dev nettle-dev libpcap-dev libcmocka-dev libbsd-dev libjson-c-dev libyaml-dev libmicrohttpd-dev libbpf-dev clang prometheus curl iproute2 python3 tshark mandoc jq nftables clang-format cppcheck}"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
        || { echo "deps: apt-get install$missing failed" >&2; exit 1; }
else
    echo "deps: missing packages:$missing" >&2
    echo "deps: run: sudo apt-get install -y$missing" >&2
    exit 1
fi
