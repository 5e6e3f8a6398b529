#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the path of an extracted linux-source-6.12 tree (from Debian's
# /usr/src/linux-source-6.12.tar.xz), extracting it into the cache once.
# The tree is keyed by the package version (stamp file .tt_alloc-pkgver).
#   scripts/kernels/kernel-source.sh
set -euo pipefail
. "$(dirname "$0")/../common.sh"

ver=$(pkg_version "$TT_SRC_PKG")
[ -n "$ver" ] || die "$TT_SRC_PKG is not installed: run 'make deps'"
[ -f "$TT_SRC_TARBALL" ] || die "$TT_SRC_TARBALL missing (reinstall $TT_SRC_PKG)"

dir=$TT_CACHE/src/linux-source-6.12
stamp=$dir/.tt_alloc-pkgver
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$ver" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$TT_CACHE/src"
# An extraction made before the stamp existed is adopted when its version
# matches and it holds every entry of the tarball.
if [ -f "$dir/Makefile" ] && [ ! -f "$stamp" ]; then
	upstream=${ver%%-*}
	mk=$(awk '/^VERSION =/{v=$3} /^PATCHLEVEL =/{p=$3} /^SUBLEVEL =/{s=$3} END{print v"."p"."s}' "$dir/Makefile")
	if [ "$mk" = "$upstream" ]; then
		note "checking existing extraction $dir"
		want=$(tar -tJf "$TT_SRC_TARBALL" | sed 's#/$##' | sort -u | wc -l)
		have=$(cd "$TT_CACHE/src" && find linux-source-6.12 ! -name .tt_alloc-pkgver | wc -l)
		if [ "$want" = "$have" ]; then
			echo "$ver" >"$stamp"
			echo "$dir"
			exit 0
		fi
		note "existing extraction incomplete ($have of $want entries)"
	fi
fi

note "extracting $TT_SRC_TARBALL ($ver) into $TT_CACHE/src"
tmp=$(mktemp -d "$TT_CACHE/src/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$TT_SRC_TARBALL" -C "$tmp"
[ -d "$tmp/linux-source-6.12" ] || die "unexpected tarball layout"
echo "$ver" >"$tmp/linux-source-6.12/.tt_alloc-pkgver"
rm -rf "$dir"
mv "$tmp/linux-source-6.12" "$dir"
echo "$dir"
