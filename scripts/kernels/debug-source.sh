#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the path of an extracted tree of the newest linux-source-<X.Y>
# that Debian ships (trixie-backports or sid, from the private lists of
# scripts/kernels/debian-apt.sh), the source of the debug kernel. The .deb is
# downloaded (never installed), its tarball extracted into
# $TT_CACHE/src/linux-source-<X.Y>-<version> once; the package version is
# in the tree's .tt_alloc-pkgver. Knobs:
#   TT_DEBUG_SOURCE=linux-source-X.Y  that source package, not the newest
#   TT_DEBUG_SOURCE=host              the host's installed linux-source-6.12
#                                     (scripts/kernels/kernel-source.sh), as before
set -euo pipefail
. "$(dirname "$0")/../common.sh"
. "$TT_ROOT/scripts/kernels/debian-apt.sh"

if [ "${TT_DEBUG_SOURCE:-}" = host ]; then
	exec "$TT_ROOT/scripts/kernels/kernel-source.sh"
fi

dapt_update
pkg=${TT_DEBUG_SOURCE:-$(dapt apt-cache pkgnames linux-source- |
	grep -E '^linux-source-[0-9]+\.[0-9]+$' | sort -V | tail -1)}
[ -n "$pkg" ] || die "no linux-source-X.Y in the Debian lists (scripts/kernels/debian-apt.sh --update?)"
# its highest version over the suites (trixie-backports or sid)
ver=
for v in $(dapt apt-cache show "$pkg" 2>/dev/null | sed -n 's/^Version: //p'); do
	if [ -z "$ver" ] || dpkg --compare-versions "$v" gt "$ver"; then ver=$v; fi
done
[ -n "$ver" ] || die "$pkg is not in the Debian lists"

dir=$TT_CACHE/src/$pkg-$(echo "$ver" | tr "~:+" "___")
if [ -f "$dir/.tt_alloc-pkgver" ] && [ -f "$dir/Makefile" ]; then
	echo "$dir"
	exit 0
fi
note "downloading $pkg $ver"
mkdir -p "$TT_CACHE/src"
tmp=$(mktemp -d "$TT_CACHE/src/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && dapt apt-get download -q "$pkg=$ver" >/dev/null) || die "apt-get download $pkg=$ver failed"
dpkg-deb --fsys-tarfile "$tmp"/"$pkg"_*.deb | tar -xf - -C "$tmp" "./usr/src/$pkg.tar.xz" ||
	die "no /usr/src/$pkg.tar.xz in the $pkg package"
rm -f "$tmp"/"$pkg"_*.deb
note "extracting $pkg.tar.xz ($ver) into $dir"
tar -xJf "$tmp/usr/src/$pkg.tar.xz" -C "$tmp"
[ -f "$tmp/$pkg/Makefile" ] || die "unexpected layout of $pkg.tar.xz (no $pkg/Makefile)"
echo "$ver" >"$tmp/$pkg/.tt_alloc-pkgver"
rm -rf "$dir"
mv "$tmp/$pkg" "$dir"
# older extractions of the same line are not used again
find "$TT_CACHE/src" -mindepth 1 -maxdepth 1 -name "$pkg-*" ! -name "${dir##*/}" -exec rm -rf {} +
echo "$dir"
