#!/bin/bash
# 05-manpages.sh - the manual pages in man/: each one lints clean with mandoc (no warning,
# no error) and renders to non-empty text naming the page; every option a program lists in
# its --help is documented in its page; references to the project's own pages resolve.
# TAP output; the mandoc tests skip when mandoc is missing, the option tests when a program
# is not built.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${OWAMP_TOOLS_BUILD:-$ROOT/build} # where make put what it built
BIN_DIR=$BUILD_DIR/bin
MAN="$ROOT/man"

PAGES=(owping.1 twping.1 owstats.1 powstream.1 owampd.8 twampd.8 owamp-server.conf.5 owamp-server.limits.5
       owamp-server.pfs.5 ippm_exporter.1)
# program:page pairs for the option check
PROGRAMS=(owping:owping.1 twping:twping.1 owstats:owstats.1 powstream:powstream.1 owampd:owampd.8
          twampd:twampd.8 ippm_exporter:ippm_exporter.1)

echo "1..$((${#PAGES[@]} + ${#PROGRAMS[@]} + 1))"

n=0
# tap STATUS NAME [DIAGNOSTIC]: one TAP line; the diagnostic goes out as '#' lines.
tap() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'
    fi
    return 0
}

skip() {
    n=$((n + 1))
    echo "ok $n # SKIP $1"
}

# check_page FILE: mandoc lint at warning level must be silent, and the ASCII rendering
# must be non-empty and carry the page's name in its NAME section.
check_page() {
    local f="$MAN/$1" name="${1%.*}" lint text
    if [ ! -f "$f" ]; then
        tap 1 "$1 lints clean and renders" "missing file $f"
        return
    fi
    if ! lint=$(mandoc -Tlint -W warning "$f" 2>&1) || [ -n "$lint" ]; then
        tap 1 "$1 lints clean and renders" "$lint"
        return
    fi
    text=$(mandoc -Tascii "$f" 2>&1 | sed 's/.\x08//g')
    if [ -z "$text" ]; then
        tap 1 "$1 lints clean and renders" "mandoc -Tascii produced no output"
    elif ! printf '%s\n' "$text" | sed -n '/^NAME/,/^[A-Z]/p' | grep -q -- "$name"; then
        tap 1 "$1 lints clean and renders" "NAME section does not mention $name"
    else
        tap 0 "$1 lints clean and renders"
    fi
}

# The option column of a --help text: lines starting with blanks and '-', cut at the first
# run of two blanks, then every -x and --long token in it (at the start or after a blank,
# comma or slash, so that "LO-HI" gives nothing).
help_options() {
    grep -E '^ +-' | sed -E 's/^ +//; s/  .*//' |
        grep -oE -- '(^|[ ,/])--?[A-Za-z0-9][A-Za-z0-9-]*' | sed -E 's/^[ ,/]//' | sort -u
}

# check_options PROG PAGE: every option of "PROG --help" appears as \-x or \-\-long in PAGE.
check_options() {
    local prog="$BIN_DIR/$1" page="$MAN/$2" missing="" opt pat
    if [ ! -x "$prog" ]; then
        skip "$1 not built"
        return
    fi
    local opts
    opts=$("$prog" --help 2>&1 | help_options)
    if [ -z "$opts" ]; then
        tap 1 "$2 documents every option of $1 --help" "no options found in $1 --help"
        return
    fi
    for opt in $opts; do
        # roff writes every '-' of an option as "\-": match that, whole word
        pat="$(printf '%s' "$opt" | sed 's/-/\\\\-/g')([^A-Za-z0-9-]|$)"
        [ "${opt#--}" = "$opt" ] && pat="(^|[^-])$pat"
        grep -qE -- "$pat" "$page" 2>/dev/null || missing="$missing $opt"
    done
    tap "$([ -z "$missing" ] && echo 0 || echo 1)" "$2 documents every option of $1 --help" \
        "not documented:$missing"
}

# Every .BR name (section) reference to a page of this project must name a file in man/.
check_xrefs() {
    local f ref missing
    missing=$(for f in "${PAGES[@]}"; do
        [ -f "$MAN/$f" ] || continue
        sed -nE 's/^\.BR +((ow|tw|pow)[a-z.\\-]*) +\(([1-8])\).*/\1.\3/p' "$MAN/$f" | sed 's/\\-/-/g' |
            while read -r ref; do
                [ -f "$MAN/$ref" ] || echo "$f->$ref"
            done
    done | sort -u | tr '\n' ' ')
    tap "$([ -z "$missing" ] && echo 0 || echo 1)" "references to the project's pages resolve" \
        "unresolved: $missing"
}

if command -v mandoc >/dev/null 2>&1; then
    for p in "${PAGES[@]}"; do
        check_page "$p"
    done
else
    for p in "${PAGES[@]}"; do
        skip "mandoc not installed"
    done
fi
for pair in "${PROGRAMS[@]}"; do
    check_options "${pair%%:*}" "${pair#*:}"
done
check_xrefs
