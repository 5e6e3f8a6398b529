#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make deb`: the Debian packages of debian/ into out/deb/, then lintian.
# The tree (the files git knows, untracked ones included; without git:
# everything but out/ and .git/) is copied to out/deb/tt-alloc-<VERSION>
# and built there with dpkg-buildpackage -us -uc -b, so the work tree is
# never written to. Then `lintian --fail-on error,warning` on the
# .changes: a warning not overridden (with its reason) in debian/ fails.
#   scripts/deb.sh            on this host (Debian 12; build-deps: make deps)
#   TT_DEB_OUT=DIR            output directory (default out/deb)
# Log: out/deb/build.log, out/deb/lintian.log.
set -euo pipefail
. "$(dirname "$0")/common.sh"

version=$(cat "$TT_ROOT/VERSION")
out=${TT_DEB_OUT:-$TT_OUT/deb}
src=$out/tt-alloc-$version
for c in dpkg-buildpackage dh dh_dkms dh_python3 lintian; do
	command -v "$c" >/dev/null || die "$c missing: run 'make deps' (scripts/deps.sh)"
done

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
note "building the Debian packages in $src (log: $out/build.log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=${TT_DEB_JOBS:-2}" \
	dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2
	die "dpkg-buildpackage failed (log: $out/build.log)"
fi
note "built in $(( $(now) - start ))s: $(cd "$out" && echo ./*.deb)"

changes=$(ls "$out"/tt-alloc_"$version"_*.changes)
rc=0
# (--show-overrides would make the overridden warnings fail too)
lintian --fail-on error,warning --display-info "$changes" >"$out/lintian.log" 2>&1 || rc=$?
grep -v '^running with root privileges' "$out/lintian.log" || true
echo "lintian overrides kept (each with its reason in the file):"
grep -H -v '^#' "$TT_ROOT"/debian/*.lintian-overrides | sed 's/^/  /'
[ "$rc" = 0 ] || die "lintian reports errors or warnings (log: $out/lintian.log)"
debs=("$out"/*.deb)
echo "deb: ${#debs[@]} packages in $out, lintian clean"
