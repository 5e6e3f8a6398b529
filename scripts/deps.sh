#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing tt_alloc needs (Debian 12), then
# prepare the stock test kernels. Idempotent: a no-op (no apt-get update)
# when everything is present.
#   scripts/deps.sh [--no-stock]
#   TT_STOCK_KERNELS="6.1 6.12 6.18 7.x"  stock kernels to prepare
#                      (scripts/kernels/fetch-kernel.sh TAG; the Debian 13 ones
#                      also make the Debian 13 build root)
set -euo pipefail
. "$(dirname "$0")/common.sh"

pkgs=(
	# build
	build-essential gcc make perl python3 pkg-config xz-utils gzip
	# kernel build
	linux-source-6.12 flex bison bc libelf-dev libssl-dev cpio kmod dwarves
	# lint
	sparse
	# libttalloc ABI check (abidw, abidiff)
	abigail-tools
	# tools and their host tests (smi: tables, watch mode, promtool,
	# the textfile collector, tmux for the terminal tests)
	libkmod-dev valgrind libsmartcols-dev libncurses-dev prometheus
	prometheus-node-exporter tmux curl
	# packaging (DKMS signs with openssl) and docs
	dkms openssl python3-sphinx
	# bench plots, and perf for bench/perf.sh (run in the guest)
	gnuplot-nox linux-perf
	# test VM
	qemu-system-x86 busybox-static jq
	# the ttalloc Python package's guest tests (mkinitramfs packs them)
	python3-pytest
	# and its offline pip install (scripts/tests/packaging-test.sh, a venv)
	python3-venv
	# Debian 13 build root (scripts/kernels/buildroot.sh), source packages and
	# their images (stock-tree.sh: dpkg-source, extract-vmlinux's unzstd)
	mmdebstrap dpkg-dev zstd
	# the Debian packages (make deb, debian/): debhelper, its dkms and
	# python3 add-ons, lintian; python3-all for dh_python3
	# (scripts/tests/deb-test.sh installs them in a chroot)
	debhelper dh-dkms dh-python python3-all lintian fakeroot
)

missing=()
for p in "${pkgs[@]}"; do
	[ -n "$(pkg_version "$p")" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (run 'make deps' as root)"
	note "installing: ${missing[*]}"
	host_apt update -q
	DEBIAN_FRONTEND=noninteractive host_apt install -y -q --no-install-recommends "${missing[@]}"
else
	echo "deps: all ${#pkgs[@]} packages present" >&2
fi

if [ "${1:-}" != --no-stock ]; then
	for k in ${TT_STOCK_KERNELS:-6.1 6.12 6.18 7.x}; do
		"$TT_ROOT/scripts/kernels/fetch-kernel.sh" "$k"
	done
fi
