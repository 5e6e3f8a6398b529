#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Debian packages test (`make check`'s "deb" stage; needs root and the
# network: apt reaches the Debian 13 archive from inside the build root):
#   1. make deb (scripts/deb.sh): the packages of debian/ build on this
#      host (Debian 12) and lintian reports no error and no warning not
#      overridden; the same with DEB_SUITE=trixie, in the Debian 13 build
#      root, whose packages are the ones installed below
#   2. apt install ./*.deb (with python3-pytest and pkg-config) into the
#      Debian 13 build root (scripts/kernels/buildroot.sh), seen through a
#      throwaway overlay so the cached root is not changed; a TAG whose
#      tree is not a headers package (6.18) gets the
#      /lib/modules/<release>/build link a headers package would make.
#      tt-alloc-dkms's postinst must have DKMS build and install the module
#      for every header set there (/lib/modules/*/build): one case each,
#      version and vermagic checked (no depmod check: dkms skips depmod
#      for a release whose image, so modules.dep, is not installed)
#      The module DKMS built for the last TAG (TT_DEB_GUEST=TAG: another)
#      boots in that stock kernel's guest (selftests/vm/run --modules, the
#      tools of `make tools`) and runs the demo (make demo's script)
#   3. tt-alloc-smi --version, python3 -c 'import ttalloc', pytest --help
#      listing the plugin's --tt-alloc-leak-check, pkg-config --libs
#      libttalloc, the "tenstorrent" group
#   4. apt purge of the packages leaves no file of theirs (dpkg -L before
#      the purge), no DKMS tree, no module, no unit link
# Prints TAP; exits 1 on failure.
#   scripts/tests/deb-test.sh TAG...   Debian 13 stock kernels (6.12-deb13
#                                      6.18 7.x), scripts/kernels/fetch-kernel.sh
# shellcheck disable=SC2016 # the scripts run in the root take $1...
# shellcheck disable=SC2153 # KDIR KREL KROOT: from load_kernel
set -uo pipefail
. "$(dirname "$0")/../common.sh"
. "$TT_ROOT/scripts/kernels/buildroot.sh"
set +e # (the sourced scripts set -e) a failed check is one failed test

[ $# -gt 0 ] || die "usage: $0 TAG... (Debian 13 stock kernels: 6.12-deb13 6.18 7.x)"
version=$(cat "$TT_ROOT/VERSION")
logs=$TT_OUT/logs
debs=$TT_OUT/deb-trixie
mkdir -p "$logs"
n=0 failed=0
pkgs=(tt-alloc-dkms tt-alloc-tools libttalloc1 libttalloc-dev python3-ttalloc)

# make_deb SUITE OUT NAME: one case, scripts/deb.sh built every package
# and lintian passed
make_deb() {
	local suite=$1 out=$2 name=$3 log=$logs/deb-build-$1.log start rc p missing=''
	start=$(now)
	DEB_SUITE=$suite TT_DEB_OUT=$out TT_DEB_ROOT=${root:-} "$TT_ROOT/scripts/deb.sh" >"$log" 2>&1
	rc=$?
	for p in "${pkgs[@]}"; do
		compgen -G "$out/${p}_${version}_*.deb" >/dev/null || missing="$missing $p"
	done
	[ "$rc" = 0 ] && [ -z "$missing" ]
	tap_ok $? "$name: ${#pkgs[@]} packages built, lintian clean${missing:+ (missing:$missing)} ($(( $(now) - start ))s)" "$log"
}

# ---- 1. make deb on this host ----------------------------------------------------
make_deb host "$TT_OUT/deb" "make deb on this host (Debian $(cat /etc/debian_version 2>/dev/null))"

# ---- the build root and its kernels ------------------------------------------
log=$logs/deb-build-host.log
root='' binds="$debs:/tt-debs" links=''
for tag in "$@"; do
	if ! (load_kernel "$tag") >>"$log" 2>&1; then
		tap_ok 1 "deb $tag: kernel not prepared (scripts/kernels/fetch-kernel.sh $tag)" "$log"
		continue
	fi
	KROOT=
	load_kernel "$tag"
	if [ -z "$KROOT" ]; then
		tap_ok 1 "deb $tag: no build root in $(kernel_env "$tag") (not a Debian 13 kernel)" "$log"
		continue
	fi
	[ -z "$root" ] || [ "$root" = "$KROOT" ] ||
		tap_ok 1 "deb $tag: build root $KROOT, not $root of the other kernels" "$log"
	root=$KROOT
	# a tree outside the root (stock-tree.sh: 6.18) is bound at its path
	kdir=${KDIR#"$KROOT"}
	if [ "$kdir" = "$KDIR" ]; then
		binds="$binds $KDIR:$KDIR"
	fi
	[ -e "$KROOT/lib/modules/$KREL/build" ] || links="$links $KREL:$kdir"
done
if [ -z "$root" ]; then
	echo "1..$n"
	echo "# no Debian 13 build root among the kernels: nothing installed" >&2
	exit 1
fi

# ---- 1b. make deb in the Debian 13 build root ---------------------------------
make_deb trixie "$debs" "make deb DEB_SUITE=trixie in the Debian 13 build root"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tt-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# in ROOT through the overlay $tmp/ovl, kept between the calls: each call
# sees what the previous ones did
inroot() {
	TT_BR_OVERLAY=$tmp/ovl TT_BR_BIND=$binds buildroot_run "$root" "$@"
}

# ---- 2. apt install ---------------------------------------------------------------
log=$logs/deb-install.log
: >"$log"
start=$(now)
inroot /bin/sh -c '
	set -ex
	for l in $1; do
		mkdir -p "/lib/modules/${l%%:*}"
		ln -s "${l#*:}" "/lib/modules/${l%%:*}/build"
	done
	ls -d /lib/modules/*/build | sed "s|^/lib/modules/||; s|/build\$||" >/tt-kernels
	apt-get update -q
	cd /tt-debs
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		./tt-alloc-dkms_*.deb ./tt-alloc-tools_*_amd64.deb ./libttalloc1_*_amd64.deb \
		./libttalloc-dev_*_amd64.deb ./python3-ttalloc_*.deb python3-pytest pkg-config
	dpkg -L tt-alloc-dkms tt-alloc-tools libttalloc1 libttalloc-dev python3-ttalloc >/tt-files
' deb-install "$links" >>"$log" 2>&1
tap_ok $? "apt install ./*.deb (built on Debian 13) into the Debian 13 build root ($(( $(now) - start ))s)" "$log"
kernels=$(tr '\n' ' ' <"$tmp/ovl/upper/tt-kernels" 2>/dev/null)
[ -n "$kernels" ]
tap_ok $? "header sets in the build root: $kernels" "$log"

for k in $kernels; do
		inroot /bin/sh -c '
		set -ex
		v=$1 k=$2
		dkms status "tt_alloc/$v" -k "$k" | grep -q ": installed"
		f=$(ls "/lib/modules/$k/updates/dkms/tt_alloc.ko"* | head -1)
		modinfo -F version "$f" | grep -qx "$v"
		modinfo -F vermagic "$f" | cut -d" " -f1 | grep -qx "$k"
	' deb-dkms "$version" "$k" >>"$log" 2>&1
	tap_ok $? "tt-alloc-dkms's postinst: DKMS built and installed tt_alloc $version for $k" "$log"
done

# ---- 2b. the DKMS-built module in its stock guest, running the demo ---------------
# one guest (TT_DEB_GUEST, default the last TAG): each boot takes minutes
# under TCG
gtag=${TT_DEB_GUEST:-${*: -1}}
log=$logs/deb-guest.log
: >"$log"
gkrel=$( (load_kernel "$gtag" && echo "$KREL") 2>>"$log")
gmods=$tmp/guest-modules
mkdir -p "$gmods"
start=$(now)
if [ -z "$gkrel" ]; then
	tap_ok 1 "deb $gtag: kernel not prepared (scripts/kernels/fetch-kernel.sh $gtag)" "$log"
elif [ ! -x "$TT_OUT/bin/tt-alloc-smi" ] || [ ! -f "$TT_OUT/share/demo.sh" ]; then
	echo "no $TT_OUT/bin/tt-alloc-smi or $TT_OUT/share/demo.sh: run make tools" >>"$log"
	tap_ok 1 "the DKMS-built module in the $gtag guest: the guest's tools are not built (make tools)" "$log"
else
	# the overlay's upper layer holds what the install wrote (/lib is
	# /usr/lib in Debian 13)
	kos=("$tmp"/ovl/upper/{usr/,}lib/modules/"$gkrel"/updates/dkms/tt_alloc.ko*)
	ko=${kos[0]}
	[ -e "$ko" ] || ko=''
	case $ko in
	*.xz) xz -dc "$ko" >"$gmods/tt_alloc.ko" ;;
	*.zst) zstd -qdc "$ko" >"$gmods/tt_alloc.ko" ;;
	?*) cp "$ko" "$gmods/tt_alloc.ko" ;;
	esac
	echo "module: ${ko:-none}" >>"$log"
	[ -s "$gmods/tt_alloc.ko" ] &&
		"$TT_ROOT/selftests/vm/run" --kernel "$gtag" --modules "$gmods" --timeout 900 \
			-- sh /opt/tt_alloc/share/demo.sh >>"$log" 2>&1 &&
		grep -q '==> No polling, no daemon' "$log" &&
		grep -q '^    kernel: tt_alloc: pid [0-9]* (tt-alloc-replay) left [0-9]* allocations: reclaimed' "$log"
	tap_ok $? "the DKMS-built module boots in the stock $gtag guest ($gkrel) and runs the demo ($(( $(now) - start ))s)" "$log"
fi

# ---- 3. what the packages provide ----------------------------------------------------
log=$logs/deb-use.log
: >"$log"
check() { # NAME SCRIPT: SCRIPT (sh -ex) in the root
	local name=$1
	echo "== $name" >>"$log"
	inroot /bin/sh -exc "$2" deb-use "$version" >>"$log" 2>&1
	tap_ok $? "$name" "$log"
}
check "tt-alloc-smi --version prints $version" \
	'tt-alloc-smi --version | tee /dev/stderr | grep -q "$1"'
check "python3 -c 'import ttalloc' (version $version, from dist-packages)" \
	'python3 -c "import ttalloc, ttalloc._version as v; print(ttalloc.__file__, v.__version__)" | tee /dev/stderr |
		grep -qx "/usr/lib/python3/dist-packages/ttalloc/__init__.py $1"'
check "pytest --help lists the plugin's --tt-alloc-leak-check" \
	'cd /tmp && pytest --help | grep -q -- "--tt-alloc-leak-check"'
check "pkg-config --libs libttalloc is -lttalloc, --modversion $version" \
	'pkg-config --libs libttalloc | grep -qx -- "-lttalloc *" && test "$(pkg-config --modversion libttalloc)" = "$1"'
check "a C program built with pkg-config's flags links libttalloc.so.1 (version $version)" \
	'printf "#include <stdio.h>\n#include <tt_alloc/libttalloc.h>\nint main(void) { puts(tt_alloc_library_version()); return 0; }\n" >/tmp/t.c &&
		gcc /tmp/t.c $(pkg-config --cflags --libs libttalloc) -o /tmp/t &&
		ldd /tmp/t | grep -Eq "libttalloc\.so\.1 => (/usr)?/lib/libttalloc\.so\.1" && /tmp/t | grep -qx "$1"' 
check "postinst made the system group tenstorrent" \
	'getent group tenstorrent | tee /dev/stderr | grep -q "^tenstorrent:x:[0-9]*:" &&
		test "$(getent group tenstorrent | cut -d: -f3)" -lt 1000'

# ---- 4. apt purge ---------------------------------------------------------------------
log=$logs/deb-purge.log
: >"$log"
inroot /bin/sh -c '
	set -ex
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$@"
	! dpkg -l "$@" 2>/dev/null | grep -q "^[a-z][a-z] "
	left=0
	while read -r f; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		[ "$f" != /. ] || continue
		if [ -d "$f" ]; then
			# a directory stays only when another package owns it
			# (by its path or, /lib being /usr/lib, by the real one)
			dpkg -S "$f" >/dev/null 2>&1 && continue
			dpkg -S "$(readlink -f "$f")" >/dev/null 2>&1 && continue
		fi
		echo "left behind: $f"; left=1
	done </tt-files
	for f in /var/lib/dkms/tt_alloc /usr/src/tt_alloc-* /lib/modules/*/updates/dkms/tt_alloc.ko* \
		/etc/systemd/system/*/tt-alloc-configure.service /etc/modprobe.d/tt_alloc*.conf \
		/etc/modules-load.d/tt_alloc.conf /usr/lib/modules-load.d/tt_alloc.conf; do
		[ -e "$f" ] || continue
		echo "left behind: $f"; left=1
	done
	! dkms status | grep tt_alloc
	test "$left" = 0
' deb-purge "${pkgs[@]}" >>"$log" 2>&1
tap_ok $? "apt purge leaves no file of the packages and no DKMS tree" "$log"

echo "1..$n"
[ "$failed" = 0 ] || { echo "# $failed of $n failed" >&2; exit 1; }
exit 0
