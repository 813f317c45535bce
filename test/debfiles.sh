#!/usr/bin/env bash
# debfiles.sh DEST ITEM...: files of Debian packages, unpacked for tests and
# never installed. ITEM is src:NAME, the upstream source of the source
# package NAME (pam-python's own test.py), or NAME, the files of the binary
# package NAME (a pam_python module whose package would configure the
# machine's PAM on install). Each lands in DEST/NAME; one already there is
# not fetched again.
#
# Sources come from the archives this machine's apt already uses, their deb
# lines read as deb-src, with apt's state in a directory of its own: the
# system's apt set-up is left as it is.
set -euo pipefail
dest=$1; shift
mkdir -p "$dest"
todo=()
for item in "$@"; do [ -d "$dest/${item#src:}" ] || todo+=("$item"); done
[ ${#todo[@]} -gt 0 ] || exit 0

apt=$(mktemp -d)
trap 'rm -rf "$apt"' EXIT
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/archives/partial"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
done > "$apt/src.list"
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" > "$apt/parts/$(basename "$f")"
done
src_opts=(-o Dir::Etc::SourceList="$apt/src.list" -o Dir::Etc::SourceParts="$apt/parts"
          -o Dir::State::Lists="$apt/lists" -o APT::Sandbox::User=root -qq)
updated=""

for item in "${todo[@]}"; do
  name=${item#src:}
  work="$apt/get-$name"
  mkdir -p "$work" "$dest/$name.tmp"
  if [ "$item" != "$name" ]; then
    [ -n "$updated" ] || { apt-get "${src_opts[@]}" update; updated=1; }
    (cd "$work" && apt-get "${src_opts[@]}" source --download-only --tar-only "$name" >/dev/null)
    tarball=$(ls "$work"/*.tar.* 2>/dev/null | grep -v '\.debian\.tar\.' | head -n1 || true)
    [ -n "$tarball" ] || { echo "debfiles: no source tarball for $name" >&2; exit 1; }
    tar -xf "$tarball" -C "$dest/$name.tmp" --strip-components=1
    got=$(basename "$tarball")
  else
    (cd "$work" && apt-get -o APT::Sandbox::User=root -qq download "$name")
    deb=$(ls "$work"/*.deb)
    dpkg-deb -x "$deb" "$dest/$name.tmp"
    got=$(basename "$deb")
  fi
  mv "$dest/$name.tmp" "$dest/$name"
  echo "debfiles: $name from $got"
done
