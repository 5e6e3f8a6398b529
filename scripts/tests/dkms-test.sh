#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DKMS test on the Debian 13 stock kernels, the way a Debian 13 user's
# DKMS builds the module: inside the Debian 13 build root
# (scripts/kernels/buildroot.sh), seen through a throwaway overlay so the cached
# root is not changed, the sources go to /usr/src/tt_alloc-<VERSION> with
# the dkms.conf of `make dkms-install`, then dkms add, dkms build -k
# <release> and dkms install -k <release>; the installed tt_alloc.ko must
# carry the version and the kernel's vermagic. A kernel whose tree is not
# a headers package (scripts/kernels/stock-tree.sh: 6.18) gets the
# /lib/modules/<release>/build link a headers package would install (in
# the overlay). Prints TAP; exits 1 on failure.
#   scripts/tests/dkms-test.sh TAG...     e.g. 6.12-deb13 6.18 7.x (prepared by
#                                   scripts/kernels/fetch-kernel.sh TAG)
# (The Debian 12 kernels' DKMS test runs on the host: packaging-test.sh.)
set -uo pipefail
. "$(dirname "$0")/../common.sh"
. "$TT_ROOT/scripts/kernels/buildroot.sh"
set +e # (the sourced scripts set -e) a failed kernel is one failed test

[ $# -gt 0 ] || die "usage: $0 TAG... (Debian 13 stock kernels: 6.12-deb13 6.18 7.x)"
version=$(cat "$TT_ROOT/VERSION")
logs=$TT_OUT/logs
mkdir -p "$logs"
n=0 failed=0


for tag in "$@"; do
	log=$logs/dkms-$tag.log
	: >"$log"
	if ! (load_kernel "$tag") >>"$log" 2>&1; then
		tap_ok 1 "dkms $tag: kernel not prepared (scripts/kernels/fetch-kernel.sh $tag)" "$log"
		continue
	fi
	KROOT=
	load_kernel "$tag"
	if [ -z "$KROOT" ]; then
		tap_ok 1 "dkms $tag: no build root in $(kernel_env "$tag") (a Debian 12 kernel? see packaging-test.sh)" "$log"
		continue
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/tt-dkms.XXXXXX")
	src=$tmp/src/tt_alloc-$version
	mkdir -p "$src"
	cp -a "$TT_ROOT"/Kbuild "$TT_ROOT"/VERSION "$TT_ROOT"/module "$TT_ROOT"/uapi "$src"/
	sed "s/#MODULE_VERSION#/$version/" "$TT_ROOT/dkms.conf" >"$src/dkms.conf"
	binds="$src:/usr/src/tt_alloc-$version"
	kdir=${KDIR#"$KROOT"}
	[ "$kdir" = "$KDIR" ] && binds="$binds $KDIR:$KDIR"
	ko=/lib/modules/$KREL/updates/dkms/tt_alloc.ko
	start=$(now)
	# shellcheck disable=SC2016
	TT_BR_OVERLAY=$tmp/ovl TT_BR_BIND=$binds buildroot_run "$KROOT" /bin/sh -c '
		set -ex
		v=$1 k=$2 ko=$3 kdir=$4
		if [ ! -e "/lib/modules/$k/build" ]; then
			mkdir -p "/lib/modules/$k"
			ln -s "$kdir" "/lib/modules/$k/build"
		fi
		dkms add "tt_alloc/$v"
		dkms build "tt_alloc/$v" -k "$k"
		dkms install "tt_alloc/$v" -k "$k"
		dkms status "tt_alloc/$v" -k "$k" | grep -q installed
		f=$(ls "$ko"* | head -1)
		modinfo -F version "$f" | grep -qx "$v"
		modinfo -F vermagic "$f" | cut -d" " -f1 | grep -qx "$k"
		echo "installed $f"
	' dkms "$version" "$KREL" "$ko" "$kdir" >>"$log" 2>&1
	tap_ok $? "dkms add/build/install tt_alloc/$version for $tag ($KREL) in the Debian 13 build root ($(( $(now) - start ))s)" "$log"
	rm -rf "$tmp"
done

echo "1..$n"
[ "$failed" = 0 ] || { echo "# $failed of $n failed" >&2; exit 1; }
exit 0
