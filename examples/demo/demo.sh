#!/usr/bin/env bash
# The demo: decisions of the worked example of the rules language
# (examples/pam-accesscontrol.conf) for the example users of
# examples/demo/passwd and group, which nss_wrapper shows to the C library
# in place of the system's, and a check of a config full of mistakes.
set -euo pipefail
cli=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
examples=$(dirname "$here")

nsswrapper=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -n1)
[ -n "$nsswrapper" ] || { echo "demo: libnss_wrapper.so is missing (Debian package libnss-wrapper)"; exit 1; }

# The module trusts only root-owned config files; the demo reads a copy
# that is, wherever the checkout is.
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
conf=$(mktemp -d); chmod 755 "$conf"
trap '$sudo rm -rf "$conf"' EXIT
cp "$examples/pam-accesscontrol.conf" "$here"/sessions-*.json "$conf/"
$sudo chown -R root:root "$conf"

bold=""; plain=""
if [ -t 1 ]; then bold=$(printf '\033[1m'); plain=$(printf '\033[0m'); fi
heading() { printf '\n%s== %s%s\n' "$bold" "$1" "$plain"; }

explain() { # explain "what happens" ARGS...
  local what=$1; shift
  heading "$what"
  printf '$ pam-accesscontrol explain --conf pam-accesscontrol.conf %s\n' "$*"
  set +e
  (cd "$conf" && env LD_PRELOAD="$nsswrapper" NSS_WRAPPER_PASSWD="$here/passwd" NSS_WRAPPER_GROUP="$here/group" \
    "$cli" explain --conf pam-accesscontrol.conf "$@") | sed -n '1,3p'
  local rc=${PIPESTATUS[0]}
  set -e
  echo "(exit status $rc: 0 OPEN, 1 CLOSE, 2 ASK)"
}

echo "Rules ($examples/pam-accesscontrol.conf):"
grep -v '^#' "$examples/pam-accesscontrol.conf" | sed 's/^/    /'
echo "Users: alice (admins, users), bob (users), carol (lp, users), dave (no group)."

explain "alice (admins) by password from 10.66.1.2: the HOST rule closes" \
  --service sshd --user alice --rhost 10.66.1.2 --auth password
explain "alice by key from anywhere: SSH OPEN GROUP admins" \
  --service sshd --user alice --rhost 198.51.100.4 --auth key
explain "carol (lp) by key: the desktop owner is asked" \
  --service sshd --user carol --rhost 192.0.2.7 --auth key
explain "carol by key again, while her approved session from that host is live: no second popup" \
  --service sshd --user carol --rhost 192.0.2.7 --auth key --sessions sessions-carol-ssh.json
explain "bob (users) at sddm while carol (users) is logged in: NUMBER users:1 is full" \
  --service sddm --user bob --sessions sessions-carol.json
explain "bob at sddm with nobody logged in: SDDM OPEN GROUP users" \
  --service sddm --user bob
explain "dave at the console: no rule, DEFAULT:CLOSE" \
  --service login --user dave

heading "check-my-config on a file full of mistakes"
echo '$ pam-accesscontrol check-my-config examples/broken.conf'
(cd "$examples/.." && "$cli" check-my-config examples/broken.conf) || echo "(exit status $?: problems found)"
