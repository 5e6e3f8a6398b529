#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Prepare a stock Debian cloud kernel for the tests: 6.1 or 6.12.
# The concrete version is resolved through the meta package; the image
# .deb is downloaded (never installed: no initramfs/grub hooks) and its
# vmlinuz extracted into the cache; the matching linux-headers package is
# installed (KDIR=/usr/src/linux-headers-<ver>).
# Writes out/kernels/<tag>.env (KTAG KDIR VMLINUZ KREL KSRC).
#   scripts/fetch-kernel.sh [--no-install] 6.1|6.12
set -euo pipefail
. "$(dirname "$0")/common.sh"

install=1
if [ "${1:-}" = --no-install ]; then install=0; shift; fi
tag=${1:?usage: $0 [--no-install] 6.1|6.12}
case $tag in
6.1) meta=linux-image-cloud-amd64 ;;
6.12) meta=linux-image-6.12-cloud-amd64 ;;
*) die "unknown stock kernel '$tag' (6.1 or 6.12)" ;;
esac

# Resolve e.g. linux-image-6.1.0-56-cloud-amd64 from the meta package.
resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
img=$(resolve)
if [ -z "$img" ] && [ "$install" = 1 ]; then
	note "apt-cache does not know $meta: running apt-get update"
	apt-get update -qq
	img=$(resolve)
fi
[ -n "$img" ] || die "cannot resolve $meta through apt-cache (run apt-get update?)"
krel=${img#linux-image-}
hdr=linux-headers-$krel
kdir=/usr/src/$hdr
dir=$TT_CACHE/stock/$krel
vmlinuz=$dir/vmlinuz-$krel

if [ -f "$vmlinuz" ]; then
	echo "using cached kernel $vmlinuz" >&2
else
	[ "$install" = 1 ] || die "$vmlinuz missing: run 'make deps'"
	note "downloading $img"
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # readable by _apt
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -q "$img" >/dev/null) || die "apt-get download $img failed"
	dpkg-deb -x "$tmp"/"$img"_*.deb "$tmp/x"
	[ -f "$tmp/x/boot/vmlinuz-$krel" ] || die "no boot/vmlinuz-$krel in $img"
	mkdir -p "$dir"
	cp "$tmp/x/boot/vmlinuz-$krel" "$vmlinuz.tmp"
	cp "$tmp/x/boot/config-$krel" "$dir/config-$krel" 2>/dev/null || true
	mv "$vmlinuz.tmp" "$vmlinuz"
fi

if [ ! -f "$kdir/Makefile" ] || [ -z "$(pkg_version "$hdr")" ]; then
	[ "$install" = 1 ] || die "$hdr not installed: run 'make deps'"
	note "installing $hdr"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$hdr" >/dev/null ||
		die "apt-get install $hdr failed"
fi
[ -f "$kdir/Makefile" ] || die "$kdir missing after installing $hdr"

mkdir -p "$TT_OUT/kernels"
cat >"$(kernel_env "$tag")" <<EOT
KTAG=$tag
KDIR=$kdir
KSRC=
VMLINUZ=$vmlinuz
KREL=$krel
EOT
echo "kernel $tag: $krel" >&2
