#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A module build tree for a Debian 13 stock kernel whose linux-headers
# Debian does not ship (6.18 today: trixie-backports keeps its images, not
# its headers), made the way the headers package is made: the linux
# source package of the same version (Debian's patches applied by
# dpkg-source), the image's own config, `make olddefconfig
# modules_prepare` with KERNELRELEASE=<release> in the Debian 13 build
# root (scripts/kernels/buildroot.sh, the compiler Debian built it with), and a
# Module.symvers of the image's exports (scripts/kernels/ksymtab-symvers.py on its
# vmlinux; the cloud kernels have no CONFIG_MODVERSIONS, so no CRC is
# needed). Symbols exported by modules are not in it. When the mirror no
# longer serves the version's Debian packaging (.dsc, .debian.tar.xz: the
# case of 6.18.15-1~bpo13+1 today) but still its upstream tarball, that is
# used alone, checked against the Sources index; .tt_alloc-source says
# which ("patched=0").
# Kept in $TT_CACHE/stock-tree/<release>-<key>, keyed by the source version,
# the config, the build root's compiler and the recipe's version; reused.
# Trees of other keys are removed after a day unused.
#   scripts/kernels/stock-tree.sh RELEASE CONFIG VMLINUZ
# prints "KROOT KDIR KSRC" (KSRC empty: the tree is in-tree).
set -euo pipefail
. "$(dirname "$0")/../common.sh"
. "$TT_ROOT/scripts/kernels/debian-apt.sh"
. "$TT_ROOT/scripts/kernels/buildroot.sh"

[ $# = 3 ] || die "usage: $0 RELEASE CONFIG VMLINUZ"
krel=$1 config=$2 vmlinuz=$3
[ -f "$config" ] || die "no kernel config $config"
[ -f "$vmlinuz" ] || die "no kernel image $vmlinuz"
grep -q '^CONFIG_MODVERSIONS=y' "$config" &&
	die "$krel has CONFIG_MODVERSIONS: a Module.symvers without CRCs would not load"

dapt_update
# the linux source of the image's version (linux-signed-amd64 keeps it)
ver=$(dapt apt-cache show "linux-image-$krel" | sed -n 's/^Version: //p' | sed -n 1p)
[ -n "$ver" ] || die "linux-image-$krel is not in the Debian lists"
root=$(buildroot_path)
cc=$(buildroot_run "$root" gcc --version | head -1)
# bump when a change of this script or of ksymtab-symvers.py makes a
# different tree
recipe=3
key=$( { echo "recipe $recipe $ver $cc"; cat "$config"; } | sha256sum | cut -c1-16)
dir=$TT_CACHE/stock-tree/$krel-$key
tree=$dir/linux

if [ -f "$dir/.tt_alloc-complete" ]; then
	echo "using cached build tree $tree" >&2
	touch "$dir/.tt_alloc-complete"
	echo "$root $tree"
	exit 0
fi

start=$(now)
note "making a build tree for $krel from the linux $ver source package in $dir"
rm -rf "$dir"
mkdir -p "$dir/dl"
log=$dir/stock-tree.log
patched=1
if ! (cd "$dir/dl" && dapt apt-get source --download-only -q "linux=$ver") >"$log" 2>&1; then
	# The mirror may serve the upstream tarball of a version but no longer
	# its Debian packaging (.dsc, .debian.tar.xz): then the upstream source
	# alone, checked against the sha256 of the Sources index.
	orig=$(ls "$dir"/dl/linux_*.orig.tar.xz 2>/dev/null | head -1)
	want=
	if [ -n "$orig" ]; then
		want=$(dapt apt-cache showsrc linux | awk -v v="$ver" -v f="${orig##*/}" '
			/^Version: / { cur = $2 } /^Checksums-Sha256:/ { in_sums = 1; next }
			/^[^ ]/ { in_sums = 0 } in_sums && cur == v && $3 == f && !w { w = $1 }
			END { print w }') || want=
	fi
	if [ -z "$want" ] || [ "$(sha256sum "$orig" | cut -d' ' -f1)" != "$want" ]; then
		tail -20 "$log" >&2
		die "apt-get source linux=$ver failed (log: $log)"
	fi
	note "warning: the mirror has no Debian packaging of linux $ver (.dsc/.debian.tar.xz): using the upstream ${orig##*/} without Debian's patches"
	patched=0
	mkdir -p "$dir/x"
	tar -xJf "$orig" -C "$dir/x" >>"$log" 2>&1 || die "cannot extract $orig (log: $log)"
	mv "$dir"/x/* "$tree"
	rmdir "$dir/x"
else
	(cd "$dir/dl" && dpkg-source --no-check -x ./linux_*.dsc "$tree") >>"$log" 2>&1 ||
		{ tail -20 "$log" >&2; die "dpkg-source -x of linux $ver failed (log: $log)"; }
fi
echo "$ver patched=$patched" >"$dir/.tt_alloc-source"
rm -rf "$dir/dl"
cp "$config" "$tree/.config"
# What Debian's kernel build sets in .kernelvariables, read by the
# Makefile through Debian's patch debian/kernelvariables.patch (its one
# line added here when the patches are missing): the release (the same
# vermagic) and the compiler as Debian named it (x86_64-linux-gnu-gcc-14,
# from the config).
kcc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$config")
buildroot_run "$root" sh -c "command -v '$kcc'" >/dev/null ||
	die "$krel was built with '$kcc', which the build root lacks"
if ! grep -q '^-include $(objtree)/.kernelvariables' "$tree/Makefile"; then
	sed -i '/^LDFLAGS_vmlinux =$/a\\n-include $(objtree)/.kernelvariables' "$tree/Makefile"
	grep -q '^-include $(objtree)/.kernelvariables' "$tree/Makefile" ||
		die "cannot add the .kernelvariables include to the $krel Makefile"
fi
cat >"$tree/.kernelvariables" <<EOF
override ARCH = x86
override KERNELRELEASE = $krel
CC = $kcc
DEBIAN_KERNEL_NO_CC_VERSION_CHECK = y
EOF
if ! TT_BR_BIND="$tree:$tree" buildroot_run "$root" make -C "$tree" -j"$(nproc)" \
	olddefconfig modules_prepare >>"$log" 2>&1; then
	tail -30 "$log" >&2
	die "modules_prepare of $krel failed (log: $log)"
fi
got=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$tree/include/generated/utsrelease.h")
[ "$got" = "$krel" ] || die "the tree's release is '$got', not $krel"
diff <(grep '^CONFIG_' "$config" | sort) <(grep '^CONFIG_' "$tree/.config" | sort) >"$dir/config.diff" ||
	note "olddefconfig changed the config of $krel (see $dir/config.diff)"
"$tree/scripts/extract-vmlinux" "$vmlinuz" >"$dir/vmlinux" 2>>"$log" ||
	die "cannot extract the vmlinux of $vmlinuz (log: $log)"
python3 "$TT_ROOT/scripts/kernels/ksymtab-symvers.py" "$dir/vmlinux" >"$tree/Module.symvers" 2>>"$log" ||
	{ tail -5 "$log" >&2; die "no Module.symvers from $vmlinuz (log: $log)"; }
rm -f "$dir/vmlinux"
touch "$dir/.tt_alloc-complete"
note "build tree for $krel made in $(( $(now) - start ))s ($(du -sh "$dir" | cut -f1))"
for d in "$TT_CACHE"/stock-tree/*; do
	[ "$d" != "$dir" ] && [ -n "$(find "$d/.tt_alloc-complete" -mmin +1440 2>/dev/null)" ] && rm -rf "$d"
done
echo "$root $tree"
