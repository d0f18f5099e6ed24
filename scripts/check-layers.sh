#!/bin/sh
# check-layers.sh - the layering rule of docs/ARCHITECTURE.md: a file includes the project's
# headers of its own folder and of the folders of lower layers only, never of a higher layer
# or of another folder of its own layer. Prints every offending include and fails.
#
#   layer 1  libprotocol/base      clock, crypto, loop, conf, addr, recstore, common
#   layer 2  libprotocol/packet    wire, sched, sock, metrics
#   layer 3  libprotocol/proto     ctrl, session
#            libprotocol/report    report, owpfile
#   layer 4  daemon                the daemons' core (owampd and twampd build from it)
#            clientcore            the clients' core (owping, twping, powstream, owstats)
#            probecore             the exporter's core (ippm_exporter)
#   layer 5  owampd twampd owping exporter  the programs
set -u
cd "$(dirname "$0")/.." || exit 2

layer_of() {
    case $1 in
    libprotocol/base) echo 1 ;;
    libprotocol/packet) echo 2 ;;
    libprotocol/proto | libprotocol/report) echo 3 ;;
    daemon | clientcore | probecore) echo 4 ;;
    owampd | twampd | owping | exporter) echo 5 ;;
    *) echo 0 ;;
    esac
}

DIRS="libprotocol/base libprotocol/packet libprotocol/proto libprotocol/report daemon clientcore
probecore owampd twampd owping exporter"
bad=0
for dir in $DIRS; do
    mine=$(layer_of "$dir")
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
            home=""
            for d in $DIRS; do
                [ -e "$d/$h" ] && home=$d
            done
            if [ -z "$home" ]; then
                echo "$f: includes \"$h\", which is in none of the project's folders"
                bad=1
            elif [ "$home" != "$dir" ] && [ "$(layer_of "$home")" -ge "$mine" ]; then
                echo "$f: includes \"$h\" of $home (layer $(layer_of "$home")), from layer $mine"
                bad=1
            fi
        done
    done
done
[ $bad = 0 ] && echo "layers: every include points down"
exit $bad
