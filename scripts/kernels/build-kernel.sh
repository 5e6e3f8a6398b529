#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the debug test kernel: x86_64 tinyconfig + selftests/config, from
# the newest linux-source-X.Y Debian ships (scripts/kernels/debug-source.sh: 7.x
# from trixie-backports or sid; TT_DEBUG_SOURCE=host: the host's
# linux-source-6.12), out of tree (O=) in the cache, inside the Debian 13
# build root (scripts/kernels/buildroot.sh: trixie's gcc; the module builds and
# their sparse against this kernel run there too; TT_DEBUG_SOURCE=host
# builds on the host as before). The build is keyed by the source package
# and version, the compiler, and the sha of the config fragment and of this
# script; a finished build is reused ("using cached kernel").
# Writes out/kernels/TAG.env (KTAG KDIR VMLINUZ KREL KSRC KROOT).
#   scripts/kernels/build-kernel.sh [debug|kcsan]   (make kernel: debug)
# kcsan: the same kernel with KCSAN instead of KASAN (they exclude each
# other): selftests/config with selftests/config.kcsan's options replacing
# its own (make check-full runs the concurrency programs on it).
set -euo pipefail
. "$(dirname "$0")/../common.sh"

tag=${1:-debug}
mkdir -p "$TT_OUT/kernels"
frag=$TT_OUT/kernels/$tag.config
case $tag in
debug) write_file "$frag" <"$TT_ROOT/selftests/config" ;;
kcsan)
	# The base fragment without the options the variant sets, then the
	# variant: what the final .config must hold (verify_config).
	over=$TT_ROOT/selftests/config.kcsan
	opts=$(sed -n 's/^\(# \)\{0,1\}\(CONFIG_[A-Za-z0-9_]*\)[= ].*/\2/p' "$over" | sort -u)
	{ grep -vwF -f <(echo "$opts") "$TT_ROOT/selftests/config"; cat "$over"; } | write_file "$frag"
	;;
*) die "usage: $0 [debug|kcsan]" ;;
esac
src=$("$TT_ROOT/scripts/kernels/debug-source.sh")
if [ -f "$src/.tt_alloc-pkgver" ]; then
	ver="${src##*/} $(cat "$src/.tt_alloc-pkgver")"
else
	ver=$(pkg_version "$TT_SRC_PKG")
fi
root=
krun=()
if [ "${TT_DEBUG_SOURCE:-}" != host ]; then
	. "$TT_ROOT/scripts/kernels/buildroot.sh"
	root=$(buildroot_path)
	krun=(buildroot_run "$root")
	ver="$ver $(buildroot_run "$root" gcc --version | head -1)"
fi
kmake=(${krun[@]+"${krun[@]}"} make)
key=$( { echo "$ver"; cat "$frag" "$0"; } | sha256sum | cut -c1-16)
O=$TT_CACHE/kernel/$tag-$key
done_stamp=$O/.tt_alloc-complete
jobs=$(nproc)

# verify_config: every line of the fragment must be in the final .config.
verify_config() {
	local line opt bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$O/.config" || {
				echo "config check FAILED: wanted '$line', got: $(grep -E "^(# )?${line%%=*}[= ]" "$O/.config" || echo 'absent')" >&2
				bad=1
			} ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			if grep -q "^$opt=" "$O/.config"; then
				echo "config check FAILED: wanted '$opt' unset, got: $(grep "^$opt=" "$O/.config")" >&2
				bad=1
			fi ;;
		esac
	done <"$frag"
	[ "$bad" = 0 ] || die "$tag kernel .config lacks options required by $frag (dependency missing?)"
	echo "config check: all options of $frag present in $O/.config" >&2
}

# One build of a key at a time: two checkouts on one machine (or two
# make checks) share the cache, and a second builder would remove the
# first one's tree under it. The second waits, then uses the first's.
mkdir -p "$TT_CACHE/kernel"
exec 9>"$O.lock"
if ! flock -n 9; then
	note "waiting for another build of $O"
	flock 9
fi

if [ -f "$done_stamp" ]; then
	echo "using cached kernel $O ($(cat "$O/include/config/kernel.release"))" >&2
else
	start=$(now)
	note "building $tag kernel in $O (source $ver, -j$jobs)"
	rm -rf "$O"
	mkdir -p "$O"
	# the source and the output at their own paths inside the root
	export TT_BR_BIND="$src:$src $O:$O"
	"${kmake[@]}" -s -C "$src" O="$O" ARCH=x86_64 tinyconfig
	cp "$frag" "$O/.tt_alloc-fragment"
	${krun[@]+"${krun[@]}"} "$src/scripts/kconfig/merge_config.sh" -m -O "$O" "$O/.config" "$O/.tt_alloc-fragment" \
		>"$O/merge_config.log" 2>&1 ||
		{ cat "$O/merge_config.log" >&2; die "merge_config.sh failed"; }
	"${kmake[@]}" -s -C "$src" O="$O" ARCH=x86_64 olddefconfig
	verify_config
	"${kmake[@]}" -C "$src" O="$O" ARCH=x86_64 -j"$jobs" bzImage modules >"$O/build.log" 2>&1 ||
		{ tail -50 "$O/build.log" >&2; die "kernel build failed (full log: $O/build.log)"; }
	"${kmake[@]}" -s -C "$src" O="$O" ARCH=x86_64 -j"$jobs" modules_prepare >>"$O/build.log" 2>&1 ||
		{ tail -50 "$O/build.log" >&2; die "modules_prepare failed (full log: $O/build.log)"; }
	[ -f "$O/Module.symvers" ] || die "no Module.symvers after the build"
	touch "$done_stamp"
	echo "$tag kernel built in $(( $(now) - start ))s: $O" >&2
fi
verify_config

write_file "$(kernel_env "$tag")" <<EOT
KTAG=$tag
KDIR=$O
KSRC=$src
VMLINUZ=$O/arch/x86/boot/bzImage
KREL=$(cat "$O/include/config/kernel.release")
KROOT=$root
EOT
