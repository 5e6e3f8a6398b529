#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the tt_alloc modules for one prepared kernel in a private copy
# (out/kbuild/<tag>/) so builds for different kernels never clash.
#   scripts/build-module.sh [--src DIR] [--name NAME] TAG [-- MAKE_ARGS...]
# TAG: debug, 6.1 or 6.12 (see scripts/build-kernel.sh, fetch-kernel.sh).
# --src DIR: build the Kbuild module in DIR (whole dir copied) instead of
#            the repo's Kbuild, VERSION, module/ and uapi/.
# --name NAME: output dir out/kbuild/NAME (default: TAG).
# The build log is out/kbuild/NAME.log.
set -euo pipefail
. "$(dirname "$0")/common.sh"

src=
name=
while [ $# -gt 0 ]; do
	case $1 in
	--src) src=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	*) break ;;
	esac
done
tag=${1:?usage: $0 [--src DIR] [--name NAME] TAG [-- MAKE_ARGS...]}
shift
[ "${1:-}" = -- ] && shift
name=${name:-$tag}
load_kernel "$tag"

dest=$TT_OUT/kbuild/$name
log=$TT_OUT/kbuild/$name.log
rm -rf "$dest"
mkdir -p "$dest"
if [ -n "$src" ]; then
	[ -d "$src" ] || die "no such module source dir: $src"
	cp -a "$src"/. "$dest"/
else
	srcroot=${TT_MODULE_SRC:-$TT_ROOT}
	for f in Kbuild VERSION module uapi; do
		[ -e "$srcroot/$f" ] || die "$srcroot/$f missing"
		cp -a "$srcroot/$f" "$dest/"
	done
	ls "$dest"/module/*.c >/dev/null 2>&1 || die "no module sources in $srcroot/module/ yet"
fi

if ! make -C "$KDIR" M="$dest" "$@" modules >"$log" 2>&1; then
	cat "$log" >&2
	die "module build for kernel '$tag' ($KREL) failed (log: $log)"
fi
ls "$dest"/*.ko >/dev/null 2>&1 || die "module build for '$tag' produced no .ko (log: $log)"
echo "built $(cd "$dest" && echo *.ko) for $tag ($KREL) in $dest" >&2
