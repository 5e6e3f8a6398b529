#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Prepare a stock Debian cloud kernel for the tests.
#   6.1, 6.12         Debian 12's (the host's apt sources): the concrete
#                     version is resolved through the meta package, the
#                     matching linux-headers package is installed on the
#                     host (KDIR=/usr/src/linux-headers-<ver>)
#   6.12-deb13, 6.18, 7.x
#                     Debian 13's (trixie, trixie-backports), resolved to
#                     the newest release of the line from the private lists
#                     at fetch time (scripts/kernels/stock-kernels.sh); their
#                     headers live in the Debian 13 build root
#                     (scripts/kernels/buildroot.sh: KROOT, KDIR under it), or, when
#                     Debian ships no headers for the release (6.18 today),
#                     a build tree is made from its source package
#                     (scripts/kernels/stock-tree.sh)
# The image .deb is downloaded (never installed: no initramfs/grub hooks)
# and its vmlinuz and config extracted into $TT_CACHE/stock/<release>.
# Writes out/kernels/<tag>.env (KTAG KDIR VMLINUZ KREL KSRC KROOT KPKGVER).
#   scripts/kernels/fetch-kernel.sh [--no-install] TAG
set -euo pipefail
. "$(dirname "$0")/../common.sh"
. "$TT_ROOT/scripts/kernels/debian-apt.sh"
. "$TT_ROOT/scripts/kernels/stock-kernels.sh"

install=1
if [ "${1:-}" = --no-install ]; then install=0; shift; fi
tag=${1:?usage: $0 [--no-install] 6.1|6.12|6.12-deb13|6.18|7.x}

# extract_image DIR KREL DEB...: the kernel and its config out of the
# packages: boot/vmlinuz-KREL, boot/config-KREL (up to 6.x), or
# usr/lib/modules/KREL/vmlinuz, .../config (7.x, which splits the image
# into linux-binary-* and linux-base-*)
extract_image() {
	local dir=$1 krel=$2 x d k c
	shift 2
	x=$(mktemp -d)
	for d in "$@"; do dpkg-deb -x "$d" "$x"; done
	k=$x/boot/vmlinuz-$krel c=$x/boot/config-$krel
	if [ ! -f "$k" ]; then
		k=$x/usr/lib/modules/$krel/vmlinuz c=$x/usr/lib/modules/$krel/config
	fi
	[ -f "$k" ] || { rm -rf "$x"; return 1; }
	mkdir -p "$dir"
	cp "$c" "$dir/config-$krel" 2>/dev/null || true
	cp "$k" "$dir/vmlinuz-$krel.tmp"
	mv "$dir/vmlinuz-$krel.tmp" "$dir/vmlinuz-$krel"
	rm -rf "$x"
}

# ---- Debian 13 kernels: private lists, build root ----------------------------
if [ -n "$(stock_line "$tag")" ]; then
	dapt_update
	krel=$(stock_krel "$tag")
	img=linux-image-$krel
	pkgver=$(dapt apt-cache show "$img" | sed -n 's/^Version: //p' | sed -n 1p)
	dir=$TT_CACHE/stock/$krel
	vmlinuz=$dir/vmlinuz-$krel
	if [ -f "$vmlinuz" ]; then
		echo "using cached kernel $vmlinuz" >&2
	else
		[ "$install" = 1 ] || die "$vmlinuz missing: run 'scripts/kernels/fetch-kernel.sh $tag'"
		note "downloading $img ($pkgver)"
		tmp=$(mktemp -d)
		trap 'rm -rf "$tmp"' EXIT
		# the image, and the package holding the kernel binary if split.
		# The dependencies are read once, in full: `apt-cache ... | grep -q`
		# under pipefail fails when grep's early exit gets apt-cache a
		# SIGPIPE, and a run here once lost both packages that way or
		# another (a fresh-clone CI run died on 7.x's missing vmlinuz).
		deps=$(dapt apt-cache depends "$img") || die "apt-cache depends $img failed"
		pkgs=("$img")
		for p in linux-binary-"$krel" linux-base-"$krel"; do
			[[ $'\n'$deps$'\n' == *$'\n'"  Depends: $p"$'\n'* ]] && pkgs+=("$p")
		done
		(cd "$tmp" && dapt apt-get download -q "${pkgs[@]}" >/dev/null) ||
			die "apt-get download ${pkgs[*]} failed"
		extract_image "$dir" "$krel" "$tmp"/*.deb ||
			die "no boot/vmlinuz-$krel nor usr/lib/modules/$krel/vmlinuz in ${pkgs[*]} (apt-cache depends $img:$(printf '\n%s' "$deps"))"
		rm -rf "$tmp"
	fi
	ksrc=
	if stock_has_headers "$krel"; then
		kroot=$("$TT_ROOT/scripts/kernels/buildroot.sh")
		kdir=$kroot/usr/src/linux-headers-$krel
		[ -f "$kdir/Makefile" ] || die "$kdir missing in the build root $kroot"
	else
		note "Debian ships no linux-headers-$krel: a build tree from its source (scripts/kernels/stock-tree.sh)"
		read -r kroot kdir < <("$TT_ROOT/scripts/kernels/stock-tree.sh" "$krel" "$dir/config-$krel" "$vmlinuz") &&
			[ -n "$kdir" ] || die "no build tree for $krel (scripts/kernels/stock-tree.sh)"
	fi
	mkdir -p "$TT_OUT/kernels"
	write_file "$(kernel_env "$tag")" <<-EOT
	KTAG=$tag
	KDIR=$kdir
	KSRC=$ksrc
	VMLINUZ=$vmlinuz
	KREL=$krel
	KROOT=$kroot
	KPKGVER=$pkgver
	EOT
	echo "kernel $tag: $krel ($img $pkgver)" >&2
	exit 0
fi

# ---- Debian 12 kernels: the host's apt --------------------------------------
case $tag in
6.1) meta=linux-image-cloud-amd64 ;;
6.12) meta=linux-image-6.12-cloud-amd64 ;;
*) die "unknown stock kernel '$tag' (6.1, 6.12, 6.12-deb13, 6.18 or 7.x)" ;;
esac

# A superseded kernel ABI (package lists older than the archive) makes the
# download or the headers install fail: refresh the lists and start over,
# once.
retry_stale() { # WHAT_FAILED
	[ "${TT_FETCH_RETRIED:-0}" = 0 ] && [ "$install" = 1 ] || die "$1"
	note "$1: refreshing the package lists (apt-get update) and trying once more"
	rm -rf "${tmp:-}"
	host_apt update -qq || die "$1, and apt-get update failed"
	TT_FETCH_RETRIED=1 exec "$0" "$tag"
}

# Resolve e.g. linux-image-6.1.0-56-cloud-amd64 from the meta package.
resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
img=$(resolve)
if [ -z "$img" ] && [ "$install" = 1 ]; then
	note "apt-cache does not know $meta: running apt-get update"
	host_apt update -qq
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
	(cd "$tmp" && apt-get download -q "$img" >/dev/null) || retry_stale "apt-get download $img failed"
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
	DEBIAN_FRONTEND=noninteractive host_apt install -y -q --no-install-recommends "$hdr" >/dev/null ||
		retry_stale "apt-get install $hdr failed"
fi
[ -f "$kdir/Makefile" ] || die "$kdir missing after installing $hdr"

mkdir -p "$TT_OUT/kernels"
write_file "$(kernel_env "$tag")" <<EOT
KTAG=$tag
KDIR=$kdir
KSRC=
VMLINUZ=$vmlinuz
KREL=$krel
KROOT=
KPKGVER=$(pkg_version "$hdr")
EOT
echo "kernel $tag: $krel" >&2
