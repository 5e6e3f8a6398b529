#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the tt_alloc modules for one prepared kernel in a private copy
# (out/kbuild/<tag>/) so builds for different kernels never clash.
#   scripts/kernels/build-module.sh [--src DIR] [--name NAME] [--strict] TAG [-- MAKE_ARGS...]
# TAG: debug, or a stock kernel: 6.1, 6.12, 6.12-deb13, 6.18, 7.x (see
# scripts/kernels/build-kernel.sh, fetch-kernel.sh); any TAG with an
# out/kernels/TAG.env. A kernel whose env names a KROOT (the Debian 13
# ones) is built inside that build root (scripts/kernels/buildroot.sh) with its
# compiler, make and kbuild, as a Debian 13 user's DKMS would.
# --src DIR: build the Kbuild module in DIR (whole dir copied) instead of
#            the repo's Kbuild, VERSION, module/ and uapi/.
# --name NAME: output dir out/kbuild/NAME (default: TAG).
# --strict: build with W=1 and sparse (C=2, the kernel's or the build
#           root's sparse); any warning fails the build.
# The build log is out/kbuild/NAME.log.
set -euo pipefail
. "$(dirname "$0")/../common.sh"

src=
name=
strict=0
while [ $# -gt 0 ]; do
	case $1 in
	--src) src=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--strict) strict=1; shift ;;
	*) break ;;
	esac
done
tag=${1:?usage: $0 [--src DIR] [--name NAME] [--strict] TAG [-- MAKE_ARGS...]}
shift
[ "${1:-}" = -- ] && shift
name=${name:-$tag}
KROOT=
load_kernel "$tag"
extra=()
bypass=0
if [ "$strict" = 1 ]; then
	extra=(W=1 C=2)
	# Debian's 6.19+ linux-headers lack scripts/checker-valid.sh, so C=2
	# would turn sparse off: KBUILD_CHECKSRC=2 keeps it on (the same check
	# is made below on the output: a sparse error fails the build)
	if grep -qs checker-valid.sh "$KDIR"/Makefile "$KDIR"/../linux-headers-*-common/Makefile &&
		[ ! -e "$KDIR/scripts/checker-valid.sh" ] &&
		! ls "$KDIR"/../linux-headers-*-common/scripts/checker-valid.sh >/dev/null 2>&1; then
		extra=(W=1 KBUILD_CHECKSRC=2)
		bypass=1
	fi
fi

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

set +e
if [ -n "$KROOT" ]; then
	# inside the build root: the module copy at /tt/build, a KDIR outside
	# the root (scripts/kernels/stock-tree.sh) and its source at their own paths
	. "$TT_ROOT/scripts/kernels/buildroot.sh"
	binds="$dest:/tt/build"
	case $KDIR in
	"$KROOT"/*) kdir=${KDIR#"$KROOT"} ;;
	*) kdir=$KDIR binds="$binds $KDIR:$KDIR${KSRC:+ $KSRC:$KSRC}" ;;
	esac
	TT_BR_BIND=$binds buildroot_run "$KROOT" make -C "$kdir" M=/tt/build -j"$(nproc)" \
		${extra[@]+"${extra[@]}"} "$@" modules >"$log" 2>&1
else
	make -C "$KDIR" M="$dest" -j"$(nproc)" ${extra[@]+"${extra[@]}"} "$@" modules >"$log" 2>&1
fi
rc=$?
set -e
where=${KROOT:+ in the build root $KROOT}
if [ "$rc" != 0 ]; then
	cat "$log" >&2
	die "module build for kernel '$tag' ($KREL)$where failed (log: $log)"
fi
ls "$dest"/*.ko >/dev/null 2>&1 || die "module build for '$tag' produced no .ko (log: $log)"
# kbuild turns a checker that is too old off with the "not available"
# message: a failure, unless it is the missing checker-valid.sh's
if [ "$strict" = 1 ] && grep -E 'warning:|error:|is not available or not up to date' "$log" |
	if [ "$bypass" = 1 ]; then
		grep -v -e "Makefile:[0-9]*: C=2 specified, but .* not available or not up to date$" \
			-e 'checker-valid.sh: No such file or directory'
	else
		cat
	fi >&2; then
	die "module build for kernel '$tag' ($KREL) with W=1 and sparse is not clean (log: $log)"
fi
echo "built $(cd "$dest" && echo *.ko) for $tag ($KREL)$where in $dest${extra[*]:+ (${extra[*]}: clean)}" >&2
