# SPDX-License-Identifier: GPL-2.0
# The Debian 13 stock kernels (sourced by fetch-kernel.sh, buildroot.sh):
# each tag names a kernel line, resolved to its newest cloud-amd64 release
# built for Debian 13 (+deb13: trixie or trixie-backports; sid's +deb14
# builds expect sid's compiler) from the private package lists
# (scripts/kernels/debian-apt.sh) at the time of the call:
#   6.12-deb13  Debian 13's own kernel (trixie)
#   6.18        the 6.18 long-term line (trixie-backports)
#   7.x         the newest 7.x (trixie-backports)
#   . scripts/kernels/stock-kernels.sh    (sourced; it runs nothing)
# shellcheck shell=bash

TT_DEB13_TAGS="6.12-deb13 6.18 7.x"

# stock_line TAG: the version regex of a Debian 13 tag, empty for others
stock_line() {
	case $1 in
	6.12-deb13) echo '6\.12\.[0-9]+' ;;
	6.18) echo '6\.18\.[0-9]+' ;;
	7.x) echo '7\.[0-9]+\.[0-9]+' ;;
	esac
}

# stock_krel TAG: e.g. 7.3.4+deb13-cloud-amd64, the newest of the line
stock_krel() {
	local re krel
	re=$(stock_line "$1")
	[ -n "$re" ] || die "'$1' is no Debian 13 stock kernel tag ($TT_DEB13_TAGS)"
	krel=$(dapt apt-cache pkgnames linux-image- |
		sed -nE "s/^linux-image-(${re}\+deb13-cloud-amd64)$/\1/p" | sort -V | tail -1)
	[ -n "$krel" ] || die "no linux-image-<$re>+deb13-cloud-amd64 in the Debian 13 lists (scripts/kernels/debian-apt.sh --update?)"
	echo "$krel"
}

# stock_has_headers KREL: Debian ships linux-headers-KREL
stock_has_headers() {
	dapt apt-cache show "linux-headers-$1" >/dev/null 2>&1
}
