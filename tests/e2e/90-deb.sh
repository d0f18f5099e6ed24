#!/bin/bash
# 90-deb.sh - the Debian packages (debian/, mk/deb.mk). `make deb` builds them (client, server,
# exporter) with dpkg-buildpackage and lintian finds no error; the server package's conffiles
# are its six files under /etc, the client package alone needs libpcap, the exporter alone
# libmicrohttpd, and its service is installed but not enabled. Then, twice:
#  - into a scratch root, with dpkg --root and the maintainer scripts run outside it
#    (--force-script-chrootless: they see DPKG_ROOT): installed, the installed owping and
#    owampd/twampd -n run, the conffiles registered, removed (configuration kept), purged;
#  - the ordinary way, dpkg -i in a chroot over a throwaway overlay of this system (writes go
#    to a tmpfs, in a mount namespace of its own): adduser and dpkg-statoverride as on a
#    real host, then remove and purge. The system users stay in both.
# No service is started: policy-rc.d says no in both roots. TAP output. Needs root: the
# packaging tools are installed with apt-get when missing. Every case is skipped with the
# reason when not root or the tools cannot be installed; the overlay cases when mount
# namespaces or overlayfs are unavailable.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=$(cat "$ROOT/VERSION")
PLAN=17
OVERLAY_CASES=5
TMP=$(mktemp -d -t e2e-deb.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
n=0

# tap STATUS NAME [DIAGNOSTIC]: one TAP line; a failure's diagnostic as '#' lines.
tap() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        [ -n "${3:-}" ] && printf '%s\n' "$3" | tail -15 | sed 's/^/# /'
    fi
    return 0
}

skip() {
    local i
    for ((i = 0; i < $1; i++)); do
        n=$((n + 1))
        echo "ok $n - Debian packages # SKIP $2"
    done
}

echo "1..$PLAN"
if [ "$(id -u)" != 0 ]; then
    skip $PLAN "not root (installs the packaging tools and packages into scratch roots)"
    exit 0
fi
if ! out=$(sh "$ROOT/scripts/deps.sh" dpkg-dev debhelper lintian 2>&1); then
    skip $PLAN "the packaging tools cannot be installed: $(echo "$out" | tail -1)"
    exit 0
fi

# --- The build ---
DEB=$TMP/build/deb
out=$(make -s -C "$ROOT" deb BUILD="$TMP/build" 2>&1)
rc=$?
CLIENT=$(ls "$DEB"/owamp-tools-client_"$VERSION"-*.deb 2>/dev/null)
SERVER=$(ls "$DEB"/owamp-tools-server_"$VERSION"-*.deb 2>/dev/null)
EXPORTER=$(ls "$DEB"/owamp-tools-exporter_"$VERSION"-*.deb 2>/dev/null)
if [ $rc -ne 0 ] || [ -z "$CLIENT" ] || [ -z "$SERVER" ] || [ -z "$EXPORTER" ]; then
    tap 1 "make deb builds owamp-tools-client, -server and -exporter" "$out"
    skip $((PLAN - 1)) "no packages"
    exit 0
fi
tap 0 "make deb builds owamp-tools-client, -server and -exporter"

errors=$(grep '^E:' "$DEB/lintian.log")
grep '^W:' "$DEB/lintian.log" | sed 's/^/# lintian /'
tap "$([ -z "$errors" ] && echo 0 || echo 1)" "lintian reports no error" "$errors"

conffiles=$(dpkg-deb --ctrl-tarfile "$SERVER" | tar -xO ./conffiles | sort | tr '\n' ' ')
CONFFILES="/etc/owamp-server/owamp-server.conf /etc/owamp-server/owamp-server.limits"
CONFFILES="$CONFFILES /etc/owamp-server/owamp-server.pfs /etc/twamp-server/twamp-server.conf"
CONFFILES="$CONFFILES /etc/twamp-server/twamp-server.limits /etc/twamp-server/twamp-server.pfs "
tap "$([ "$conffiles" = "$CONFFILES" ] && echo 0 || echo 1)" \
    "the server's conffiles are its files under /etc" "conffiles: $conffiles"

cdep=$(dpkg-deb -f "$CLIENT" Depends) sdep=$(dpkg-deb -f "$SERVER" Depends)
edep=$(dpkg-deb -f "$EXPORTER" Depends)
ok=0
[[ $cdep == *libsodium23* && $cdep == *libpcap* && $cdep != *microhttpd* ]] || ok=1
[[ $sdep == *libsodium23* && $sdep == *adduser* && $sdep != *libpcap* && $sdep != *yaml* ]] || ok=1
[[ $edep == *libmicrohttpd* && $edep == *libyaml* && $edep != *libpcap* ]] || ok=1
tap $ok "Depends from shlibs: libpcap for the client, adduser for the server, libmicrohttpd and libyaml for the exporter" "client: $cdep
server: $sdep
exporter: $edep"

# --- Into a scratch root, maintainer scripts run chrootless ---
R=$TMP/root
mkdir -p "$R/etc" "$R/usr/sbin" "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
# No dependency is installed in this root: the programs use this system's libraries.
rdpkg() { dpkg --root="$R" --force-script-chrootless --force-depends --log=/dev/null "$@"; }

out=$(rdpkg -i "$CLIENT" "$SERVER" "$EXPORTER" 2>&1)
rc=$?
gid=$(sed -n 's/^owamp:[^:]*:\([0-9]*\):.*/\1/p' "$R/etc/group")
modes=$(cd "$R/etc" && stat -c '%n %u:%g %a' owamp-server owamp-server/owamp-server.pfs)
want="owamp-server 0:$gid 750
owamp-server/owamp-server.pfs 0:$gid 640"
if [ $rc -ne 0 ]; then
    tap 1 "dpkg --root installs both packages" "$out"
elif ! grep -q '^twamp:' "$R/etc/passwd" || [ -z "$gid" ] || [ "$modes" != "$want" ]; then
    tap 1 "dpkg --root installs both packages" "$(cat "$R/etc/passwd")
$modes"
else
    tap 0 "dpkg --root installs both packages: users owamp and twamp, configuration root:owamp 0640"
fi

out=$("$R/usr/bin/owping" --version 2>&1)
[[ $out == "owping (owamp-tools) $VERSION" ]]
tap $? "the installed owping --version: owping (owamp-tools) $VERSION" "$out"

out=$("$R/usr/bin/ippm_exporter" --version 2>&1 &&
    "$R/usr/bin/ippm_exporter" --config.check --config.file "$R/etc/ippm_exporter.yml" 2>&1)
rc=$?
econf=$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Conffiles}\n' owamp-tools-exporter |
    cut -d' ' -f2 | tr -d '\n')
[ $rc -eq 0 ] && [ "$econf" = /etc/ippm_exporter.yml ] &&
    grep -q '^ExecStart=/usr/bin/ippm_exporter --config.file /etc/ippm_exporter.yml' \
        "$R/lib/systemd/system/ippm_exporter.service" &&
    [ ! -e "$R/etc/systemd/system/multi-user.target.wants/ippm_exporter.service" ]
tap $? "the installed ippm_exporter: --version, its conffile /etc/ippm_exporter.yml passes --config.check, unit not enabled" "$out
conffiles: $econf"

o1=$("$R/usr/sbin/owampd" -n -c "$R/etc/owamp-server" 2>&1)
r1=$?
o2=$("$R/usr/sbin/twampd" -n -c "$R/etc/twamp-server" 2>&1)
r2=$?
tap $((r1 | r2)) "the installed owampd -n and twampd -n accept the installed configuration" "$o1
$o2"

reg=$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Conffiles}\n' owamp-tools-server |
    cut -d' ' -f2 | sort | tr '\n' ' ')
units=$(grep -h '^ExecStart=' "$R/lib/systemd/system/owampd.service" \
    "$R/lib/systemd/system/twampd.service" | cut -d' ' -f1 | tr '\n' ' ')
wants=$(ls "$R/etc/systemd/system/multi-user.target.wants" 2>&1 | tr '\n' ' ')
if [ "$reg" != "$CONFFILES" ] || [ "$units" != "ExecStart=/usr/sbin/owampd ExecStart=/usr/sbin/twampd " ] ||
    [ "$wants" != "owampd.service twampd.service " ]; then
    tap 1 "conffiles registered, units run /usr/sbin and are enabled" "conffiles: $reg
units: $units
enabled: $wants"
else
    tap 0 "conffiles registered, units run /usr/sbin and are enabled"
fi

out=$(rdpkg -i "$SERVER" 2>&1)
rc=$?
modes2=$(cd "$R/etc" && stat -c '%n %u:%g %a' owamp-server owamp-server/owamp-server.pfs)
if [ $rc -ne 0 ] || [ "$modes2" != "$want" ] || [ "$(grep -c '^owamp:' "$R/etc/passwd")" != 1 ]; then
    tap 1 "dpkg --root -i again (an upgrade in place) keeps users and modes" "$out
$modes2"
else
    tap 0 "dpkg --root -i again (an upgrade in place) keeps users and modes"
fi

out=$(rdpkg --remove owamp-tools-client owamp-tools-server owamp-tools-exporter 2>&1)
rc=$?
left=$(ls "$R/usr/bin" "$R/usr/sbin" 2>&1 | grep -E 'ow|tw|ippm')
if [ $rc -ne 0 ] || [ -n "$left" ] || [ ! -f "$R/etc/owamp-server/owamp-server.pfs" ]; then
    tap 1 "dpkg --remove: programs gone, configuration kept" "$out
left: $left"
else
    tap 0 "dpkg --remove: programs gone, configuration kept"
fi

out=$(rdpkg --purge owamp-tools-client owamp-tools-server owamp-tools-exporter 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -e "$R/etc/owamp-server" ] || [ -e "$R/etc/twamp-server" ] ||
    [ -e "$R/etc/ippm_exporter.yml" ] ||
    [ -e "$R/etc/systemd/system/multi-user.target.wants/owampd.service" ] ||
    ! grep -q '^owamp:' "$R/etc/passwd"; then
    tap 1 "dpkg --purge: configuration and enablement gone, users kept" "$out
$(ls -R "$R/etc")"
else
    tap 0 "dpkg --purge: configuration and enablement gone, users kept"
fi

# --- The ordinary way, in a chroot over a throwaway overlay of this system ---
# inside: the script run in the chroot. Each check prints its diagnostics as "# " lines,
# then "check STATUS NAME".
inside() {
    cat <<'SH'
check() { echo "check $1 $2"; }
cd /tmp/debs
out=$(dpkg -i owamp-tools-client_*.deb owamp-tools-server_*.deb 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check $rc "dpkg -i in a copy of this system, dependencies met"
users=$(getent passwd owamp twamp | cut -d: -f1,7 | tr '\n' ' ')
over=$(dpkg-statoverride --list | grep -c -E '^root (owamp|twamp) (640|750) /etc/(ow|tw)amp-server')
pfs=$(stat -c '%U:%G %a' /etc/owamp-server/owamp-server.pfs /etc/twamp-server/twamp-server.pfs |
    tr '\n' ' ')
echo "# users: $users overrides: $over pass-phrase files: $pfs"
[ "$users" = "owamp:/usr/sbin/nologin twamp:/usr/sbin/nologin " ] && [ "$over" = 8 ] &&
    [ "$pfs" = "root:owamp 640 root:twamp 640 " ] && owampd -n -c /etc/owamp-server >/dev/null
check $? "adduser made owamp and twamp, dpkg-statoverride restricts the configuration"
out=$(dpkg -i owamp-tools-server_*.deb 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
[ $rc -eq 0 ] && [ "$(stat -c '%U:%G %a' /etc/owamp-server)" = "root:owamp 750" ] &&
    [ "$(stat -c '%U:%G %a' /etc/owamp-server/owamp-server.pfs)" = "root:owamp 640" ]
check $? "dpkg -i again (an upgrade in place) keeps the modes"
dpkg -r owamp-tools-client owamp-tools-server 2>&1 | sed 's/^/# /'
[ ! -e /usr/sbin/owampd ] && [ "$(stat -c %a /etc/owamp-server/owamp-server.pfs)" = 640 ]
check $? "dpkg -r keeps the configuration and its modes"
dpkg -P owamp-tools-client owamp-tools-server 2>&1 | sed 's/^/# /'
over=$(dpkg-statoverride --list | grep -c -E '/etc/(ow|tw)amp-server')
echo "# overrides left: $over"
[ ! -e /etc/owamp-server ] && [ "$over" = 0 ] && getent passwd owamp >/dev/null
check $? "dpkg -P removes configuration and overrides, keeps the users"
SH
}

O=$TMP/overlay
mkdir -p "$O"
out=$(inside | unshare --mount sh -c '
    set -e
    o=$1 && shift
    mount -t tmpfs tmpfs "$o"
    mkdir "$o/upper" "$o/work" "$o/root"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$o/upper,workdir=$o/work" "$o/root"
    mount --bind /dev "$o/root/dev"
    mount -t proc proc "$o/root/proc"
    mkdir -p "$o/root/tmp/debs"
    cp "$@" "$o/root/tmp/debs/"
    printf "#!/bin/sh\nexit 101\n" >"$o/root/usr/sbin/policy-rc.d"
    chmod 755 "$o/root/usr/sbin/policy-rc.d"
    echo overlay-ready
    chroot "$o/root" sh -s
' sh "$O" "$CLIENT" "$SERVER" 2>&1)
if [[ $out != *overlay-ready* ]]; then
    skip $OVERLAY_CASES "no overlay of this system: $(echo "$out" | tail -1)"
    exit 0
fi
diag=""
while IFS= read -r line; do
    case $line in
    "check "*)
        read -r _ st name <<<"$line"
        tap "$st" "$name" "$diag"
        diag=""
        ;;
    "# "*) diag="${diag:+$diag$'\n'}${line#\# }" ;;
    esac
done <<<"$out"
while [ $n -lt $PLAN ]; do
    tap 1 "the checks in the overlay ran to the end" "$out"
done
