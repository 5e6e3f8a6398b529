#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make (once) and print the path of the Debian 13 (trixie) build root in
# which the module is built for the Debian 13 kernels, the way a Debian 13
# user's DKMS builds it: trixie's gcc, make, sparse and dkms, and the
# linux-headers-<release> (with its linux-kbuild) of every Debian 13 stock
# kernel (scripts/kernels/fetch-kernel.sh: 6.12-deb13, 6.18, 7.x), from trixie and
# trixie-backports; also what building the debug kernel takes
# (scripts/kernels/build-kernel.sh). sparse is built from the newest Debian source
# package of it (sid's 0.6.5~rc1 today) into /usr/local/bin: trixie's
# 0.6.4 cannot parse the 6.19+ headers (__typeof_unqual__), which the
# kernel's scripts/checker-valid.sh then turns off without a word.
# Made with mmdebstrap --variant=minbase from Debian's
# packages into $TT_CACHE/buildroot/trixie-<key>; the key hashes the mirror,
# the exact package list (with the resolved header versions) and this
# script, so a new kernel release makes a new root and a finished one is
# reused ("using cached build root"). Older roots are removed once a new
# one is complete and they have not been used for a day.
#   scripts/kernels/buildroot.sh             make or reuse it, print its path
#   scripts/kernels/buildroot.sh --run CMD   run CMD in it (chroot, private mounts:
#                                    /proc, /dev, and TT_BR_BIND="HOST:DIR ...")
#   TT_BR_TAGS="6.12-deb13 6.18 7.x"      kernels whose headers it holds
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
. "$TT_ROOT/scripts/kernels/debian-apt.sh"
. "$TT_ROOT/scripts/kernels/stock-kernels.sh"

# the recipe below: bump it when a change of this script makes a
# different root (the key holds it, not this script's text, so that an
# edit of the rest does not throw a root away)
br_recipe=2

# packages of the root besides the kernel headers: compiler, make, dkms;
# then the debug kernel's build tools (python3: resolve_btfids of a BTF
# kernel, scripts/kernels/stock-tree.sh)
base_pkgs=(make gcc gcc-14 libc6-dev dkms kmod openssl libelf-dev
	bc bison flex libssl-dev cpio pahole xz-utils python3)

# br_path: resolve the headers, compute the key; sets br_dir, br_pkgs
br_resolve() {
	local t krel
	br_hdrs=()
	dapt_update
	for t in ${TT_BR_TAGS:-6.12-deb13 6.18 7.x}; do
		krel=$(stock_krel "$t")
		# without a headers package (6.18): scripts/kernels/stock-tree.sh
		stock_has_headers "$krel" && br_hdrs+=("linux-headers-$krel")
	done
	# the newest sparse source over the suites
	br_sparse=
	for v in $(dapt apt-cache showsrc sparse 2>/dev/null | sed -n 's/^Version: //p'); do
		if [ -z "$br_sparse" ] || dpkg --compare-versions "$v" gt "$br_sparse"; then br_sparse=$v; fi
	done
	[ -n "$br_sparse" ] || die "no sparse source package in the Debian lists"
	br_pkgs=("${base_pkgs[@]}" ${br_hdrs[@]+"${br_hdrs[@]}"} "source:sparse=$br_sparse")
	br_key=$( { echo "recipe $br_recipe"; dapt_mirror; printf '%s\n' "${br_pkgs[@]}"; } |
		sha256sum | cut -c1-16)
	br_dir=$TT_CACHE/buildroot/trixie-$br_key
}

br_make() {
	local m tmp start
	m=$(dapt_mirror)
	command -v mmdebstrap >/dev/null || die "mmdebstrap missing: run 'make deps' (scripts/deps.sh)"
	start=$(now)
	note "making the Debian 13 build root $br_dir: ${br_pkgs[*]}"
	mkdir -p "$TT_CACHE/buildroot"
	tmp=$br_dir.tmp
	rm -rf "$tmp"
	# "sources" as two one-line entries: trixie first, so only the named
	# packages come from trixie-backports (its pin is lower)
	if ! mmdebstrap --mode=root --variant=minbase --format=directory \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		--aptopt='Acquire::Languages "none"' \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--include="$(IFS=,; echo "${base_pkgs[*]}")" \
		${br_hdrs[@]+--include="$(IFS=,; echo "${br_hdrs[*]}")"} \
		trixie "$tmp" \
		"deb $m trixie main" "deb $m trixie-backports main" \
		>"$TT_CACHE/buildroot/mmdebstrap.log" 2>&1; then
		tail -30 "$TT_CACHE/buildroot/mmdebstrap.log" >&2
		rm -rf "$tmp"
		die "mmdebstrap of the Debian 13 build root failed (log: $TT_CACHE/buildroot/mmdebstrap.log)"
	fi
	cp "$TT_CACHE/buildroot/mmdebstrap.log" "$tmp/.tt_alloc-mmdebstrap.log"
	note "building sparse $br_sparse from its Debian source package into the root"
	mkdir -p "$tmp/usr/local/src/sparse"
	if ! (cd "$tmp/usr/local/src/sparse" &&
		dapt apt-get source --download-only -q "sparse=$br_sparse" &&
		dpkg-source --no-check -x ./*.dsc src &&
		chroot_run "$tmp" /bin/sh -c "make -C /usr/local/src/sparse/src -j$(nproc) CC=gcc sparse &&
			install -m 755 /usr/local/src/sparse/src/sparse /usr/local/bin/sparse") >"$TT_CACHE/buildroot/sparse.log" 2>&1 ||
		! chroot_run "$tmp" /usr/local/bin/sparse --version >/dev/null 2>&1; then
		tail -30 "$TT_CACHE/buildroot/sparse.log" >&2
		rm -rf "$tmp"
		die "building sparse $br_sparse in the build root failed (log: $TT_CACHE/buildroot/sparse.log)"
	fi
	rm -rf "$tmp/usr/local/src/sparse"
	printf '%s\n' "${br_pkgs[@]}" >"$tmp/.tt_alloc-packages"
	touch "$tmp/.tt_alloc-complete"
	mv "$tmp" "$br_dir"
	note "build root made in $(( $(now) - start ))s ($(du -sh "$br_dir" | cut -f1))"
	br_prune
}

# br_prune: remove the roots of other keys unused for a day (their stamp
# is touched on each use), so that a run still inside one is not disturbed
br_prune() {
	local d
	for d in "$TT_CACHE"/buildroot/trixie-*; do
		[ "$d" != "$br_dir" ] || continue
		case $d in
		*.tmp) [ -z "$(find "$d" -maxdepth 0 -mmin +1440)" ] || rm -rf "$d" ;;
		*) [ -z "$(find "$d/.tt_alloc-complete" -mmin +1440 2>/dev/null)" ] || rm -rf "$d" ;;
		esac
	done
}

# buildroot_path: make or reuse the root, print its path
buildroot_path() {
	br_resolve
	if [ -f "$br_dir/.tt_alloc-complete" ]; then
		echo "using cached build root $br_dir" >&2
		touch "$br_dir/.tt_alloc-complete"
	else
		br_make
	fi
	echo "$br_dir"
}

# buildroot_run ROOT CMD...: CMD inside ROOT (as root, clean environment),
# in a private mount namespace: /proc, /dev and each HOST:DIR of
# TT_BR_BIND bind-mounted; all of it goes away with the command. With
# TT_BR_OVERLAY=DIR the root is seen through an overlay whose changes go
# to DIR (so the cached root stays as made: dkms writes into it).
buildroot_run() {
	[ -f "$1/.tt_alloc-complete" ] || die "$1 is no finished build root"
	chroot_run "$@"
}

chroot_run() {
	local root=$1
	shift
	# shellcheck disable=SC2016
	unshare --mount --propagation private -- /bin/bash -c '
		set -e
		root=$1; shift
		if [ -n "${TT_BR_OVERLAY:-}" ]; then
			o=$TT_BR_OVERLAY
			mkdir -p "$o/upper" "$o/work" "$o/merged"
			mount -t overlay overlay -o "lowerdir=$root,upperdir=$o/upper,workdir=$o/work" "$o/merged"
			root=$o/merged
		fi
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		for b in ${TT_BR_BIND:-}; do
			mkdir -p "$root/${b#*:}"
			mount --bind "${b%%:*}" "$root/${b#*:}"
		done
		exec chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
	' buildroot "$root" "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	"") buildroot_path ;;
	--run)
		shift
		[ $# -gt 0 ] || die "usage: $0 [--run CMD...]"
		root=$(buildroot_path)
		buildroot_run "$root" "$@" ;;
	*) die "usage: $0 [--run CMD...]" ;;
	esac
fi
