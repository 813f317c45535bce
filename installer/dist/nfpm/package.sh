#!/bin/sh
# package.sh FORMAT: this build's two packages, pam-accesscontrol and
# pam-accesscontrol-notifier, as FORMAT (deb or rpm), by nfpm. make deb and
# make rpm run it from the top of the tree with BUILD, VERSION, NFPM and
# the file lists of make install (INSTALLED_BASE, INSTALLED_NOTIFIER:
# DESTINATION:SOURCE:MODE ...) in the environment, so that make install and
# both formats put the same files in the same places.
#
# A package's dependencies are what its binaries link, as the format's own
# tool says (dpkg-shlibdeps; rpm's elfdeps), never a list kept by hand.
set -eu
format=$1
: "${BUILD:?}" "${VERSION:?}" "${NFPM:?}" "${INSTALLED_BASE:?}" "${INSTALLED_NOTIFIER:?}"
here=installer/dist/nfpm
out=$BUILD/pkg-$format
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the Debian changelog of this version (lintian wants one in every package)
{
	printf 'pam-accesscontrol (%s) unstable; urgency=medium\n\n' "$VERSION"
	printf '  * Release %s of pam-accesscontrol, the Go successor of the Python\n' "$VERSION"
	printf '    pam-accesscontrol: see /usr/share/doc/pam-accesscontrol.\n\n'
	printf ' -- pam-accesscontrol developers <pam-accesscontrol@users.noreply.github.com>  %s\n' \
		"$(LC_ALL=C date -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}" -R)"
} | gzip -9n > "$BUILD/changelog.gz"

# is_binary: whether a file of the lists is an ELF object (stripped,
# and what the dependencies are read from)
is_binary() {
	case $1 in *.so | */pam-accesscontrol | */pam-accesscontrol-helper | */pam-accesscontrol-helper-full | */pam-accesscontrol-notifier | */pam-accesscontrol-notifier-wayland) return 0 ;; esac
	return 1
}

# binaries of a file list
binaries() {
	for f in $1; do
		rest=${f#*:}
		src=${rest%%:*}
		if is_binary "$src"; then echo "$src"; fi
	done
}

# depends lists, comma-separated, what the binaries of file list $1 link
depends() {
	case $format in
	deb)
		mkdir -p "$work/shlibdeps/debian"
		printf 'Source: pam-accesscontrol\n\nPackage: pam-accesscontrol\nArchitecture: any\n' > "$work/shlibdeps/debian/control"
		args=""
		for b in $(binaries "$1"); do args="$args -e$(readlink -f "$b")"; done
		# shellcheck disable=SC2086
		(cd "$work/shlibdeps" && dpkg-shlibdeps -O $args 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
		;;
	rpm)
		elfdeps=/usr/lib/rpm/elfdeps
		[ -x "$elfdeps" ] || { echo "package.sh: $elfdeps not found (Debian package rpm)" >&2; exit 1; }
		for b in $(binaries "$1"); do readlink -f "$b"; done | "$elfdeps" --requires | sort -u | paste -sd, - | sed 's/,/, /g'
		;;
	esac
}

# dlopened are the libraries the notifier's toolkit (GLFW 3.3: x11_init.c,
# wl_init.c, egl_context.c) opens at run time, which no linker table names;
# their packages are found as for linked ones: by who ships the soname.
dlopened="libX11-xcb.so.1 libXcursor.so.1 libXi.so.6 libXinerama.so.1 libXrandr.so.2 libXrender.so.1 libXxf86vm.so.1
libEGL.so.1 libwayland-cursor.so.0 libwayland-egl.so.1 libxkbcommon.so.0"

# dlopen_depends lists, comma-separated, the dependencies of dlopened
dlopen_depends() {
	out=""
	for so in $dlopened; do
		case $format in
		deb)
			pkg=$(dpkg -S "*/$so" 2>/dev/null | head -n1 | cut -d: -f1)
			[ -n "$pkg" ] || { echo "package.sh: no installed package has $so (the notifier opens it)" >&2; exit 1; }
			;;
		rpm) pkg="$so()(64bit)" ;;
		esac
		out="$out${out:+, }$pkg"
	done
	echo "$out"
}

# yaml writes package $1's nfpm description: the template filled in, then
# the files of list $2
yaml() {
	deps=$3
	case $format in
	deb) scripts="installer/dist/debian-postinst installer/dist/debian-prerm installer/dist/debian-postrm" ;;
	rpm) scripts="installer/dist/rpm-post installer/dist/rpm-preun installer/dist/rpm-postun" ;;
	esac
	set -- "$1" "$2" $scripts
	sed -e "s|@ARCH@|$(go env GOARCH)|" -e "s|@VERSION@|$VERSION|" -e "s|@BUILD@|$BUILD|" \
		-e "s|@DEPENDS@|$deps|" -e "s|@RECOMMENDS@|dbus|" \
		-e "s|@POSTINSTALL@|$3|" -e "s|@PREREMOVE@|$4|" -e "s|@POSTREMOVE@|$5|" "$here/$1.yaml.in"
	for f in $2; do
		dst=${f%%:*}
		rest=${f#*:}
		src=${rest%%:*}
		mode=${rest##*:}
		if is_binary "$src"; then
			# as dh_strip does; the build keeps its symbols
			mkdir -p "$work/files"
			strip --strip-unneeded --remove-section=.comment --remove-section=.note \
				-o "$work/files/$(basename "$dst")" "$src"
			src=$work/files/$(basename "$dst")
		fi
		case $dst in
		*/man/man?/*)
			mkdir -p "$work/files"
			gzip -9n < "$src" > "$work/files/$(basename "$dst").gz"
			src=$work/files/$(basename "$dst").gz
			dst=$dst.gz
			;;
		esac
		printf '  - dst: %s\n    src: %s\n    file_info: {mode: %s}\n' "$dst" "$src" "$mode"
		# a file in /etc is the admin's: kept over upgrades, as a conffile
		case $dst in /etc/*) printf '    type: config|noreplace\n' ;; esac
	done
}

base_deps=$(depends "$INSTALLED_BASE")
notifier_deps="$(depends "$INSTALLED_NOTIFIER"), $(dlopen_depends)"
case $format in
deb) self="pam-accesscontrol (= $VERSION)" ;;
rpm) self="pam-accesscontrol = $VERSION" ;;
esac
yaml pam-accesscontrol "$INSTALLED_BASE" "$base_deps" > "$work/base.yaml"
yaml pam-accesscontrol-notifier "$INSTALLED_NOTIFIER" "$self, $notifier_deps" > "$work/notifier.yaml"
for y in base notifier; do
	"$NFPM" package --config "$work/$y.yaml" --packager "$format" --target "$out/"
done
ls "$out"/*."$format"
