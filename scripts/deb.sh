#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make deb`: the Debian packages of debian/ into out/deb/, then lintian.
# The tree (the files git knows, untracked ones included; without git:
# everything but out/ and .git/) is copied to out/deb/tt-alloc-<VERSION>
# and built there with dpkg-buildpackage -us -uc -b, so the work tree is
# never written to. Then `lintian --fail-on error,warning` on the
# .changes: a warning not overridden (with its reason) in debian/ fails.
#   scripts/deb.sh            on this host (Debian 12; build-deps:
#                             scripts/deps.sh --no-stock)
#   DEB_SUITE=trixie scripts/deb.sh   (make deb DEB_SUITE=trixie) in the
#                             Debian 13 build root (scripts/kernels/buildroot.sh)
#                             through a throwaway overlay: apt-get build-dep
#                             and lintian are installed there (network), the
#                             cached root is not changed; output out/deb-trixie
#   TT_DEB_OUT=DIR            output directory (default out/deb)
#   TT_DEB_ROOT=DIR           the build root to use (default: that of the
#                             prepared Debian 13 kernels, else buildroot.sh)
# Log: out/deb/build.log, out/deb/lintian.log.
set -euo pipefail
. "$(dirname "$0")/common.sh"

version=$(cat "$TT_ROOT/VERSION")
suite=${DEB_SUITE:-host}
case $suite in
host | bookworm) suite=host; out=${TT_DEB_OUT:-$TT_OUT/deb} ;;
trixie) out=${TT_DEB_OUT:-$TT_OUT/deb-trixie} ;;
*) die "DEB_SUITE=$suite: host (this machine) or trixie (the Debian 13 build root)" ;;
esac
src=$out/tt-alloc-$version
if [ "$suite" = host ]; then
	for c in dpkg-buildpackage dh dh_dkms dh_python3 lintian; do
		command -v "$c" >/dev/null || die "$c missing: run 'scripts/deps.sh --no-stock'"
	done
else
	. "$TT_ROOT/scripts/kernels/buildroot.sh"
	set -euo pipefail
	root=${TT_DEB_ROOT:-}
	if [ -z "$root" ]; then
		# the root of the prepared Debian 13 kernels, else make or reuse it
		root=$(sed -n 's/^KROOT=//p' "$TT_OUT"/kernels/*.env 2>/dev/null | grep . | head -1 || true)
		[ -n "$root" ] || root=$(buildroot_path)
	fi
fi

rm -rf "$out"
mkdir -p "$src"
if git -C "$TT_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# tracked (minus deleted) and untracked-but-not-ignored files
	(cd "$TT_ROOT" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -C "$src" -xf -
else
	(cd "$TT_ROOT" && tar --exclude=./out --exclude=./.git -cf - .) | tar -C "$src" -xf -
fi

start=$(now)
jobs=${TT_DEB_JOBS:-2}
rc=0
if [ "$suite" = host ]; then
	note "building the Debian packages in $src (log: $out/build.log)"
	(cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs" dpkg-buildpackage -us -uc -b) \
		>"$out/build.log" 2>&1 || rc=$?
else
	note "building the Debian packages in $root (Debian 13), from $src (log: $out/build.log)"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/tt-deb13.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# shellcheck disable=SC2016
	TT_BR_OVERLAY=$tmp/ovl TT_BR_BIND="$out:/tt-deb" buildroot_run "$root" /bin/sh -c '
		set -ex
		cd "/tt-deb/tt-alloc-$1"
		apt-get update -q
		DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q ./
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lintian
		DEB_BUILD_OPTIONS="parallel=$2" dpkg-buildpackage -us -uc -b
	' deb-trixie "$version" "$jobs" >"$out/build.log" 2>&1 || rc=$?
fi
if [ "$rc" != 0 ]; then
	tail -40 "$out/build.log" >&2
	die "dpkg-buildpackage failed (log: $out/build.log)"
fi
note "built in $(( $(now) - start ))s: $(cd "$out" && echo ./*.deb)"

changes=$(cd "$out" && ls tt-alloc_"$version"_*.changes)
# (--show-overrides would make the overridden warnings fail too)
if [ "$suite" = host ]; then
	lintian --fail-on error,warning --display-info "$out/$changes" >"$out/lintian.log" 2>&1 || rc=$?
else
	TT_BR_OVERLAY=$tmp/ovl TT_BR_BIND="$out:/tt-deb" buildroot_run "$root" \
		lintian --fail-on error,warning --display-info "/tt-deb/$changes" >"$out/lintian.log" 2>&1 || rc=$?
fi
grep -v '^running with root privileges' "$out/lintian.log" || true
echo "lintian overrides kept (each with its reason in the file):"
grep -H -v '^#' "$TT_ROOT"/debian/*.lintian-overrides | sed 's/^/  /'
[ "$rc" = 0 ] || die "lintian reports errors or warnings (log: $out/lintian.log)"
debs=("$out"/*.deb)
echo "deb: ${#debs[@]} packages in $out, lintian clean"
