#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the debug test kernel: x86_64 tinyconfig + selftests/config, from
# Debian's linux-source-6.12, out of tree (O=) in the cache. The build is
# keyed by the source package version and the sha of the config fragment
# and of this script; a finished build is reused ("using cached kernel").
# Writes out/kernels/debug.env (KTAG KDIR VMLINUZ KREL KSRC).
set -euo pipefail
. "$(dirname "$0")/common.sh"

frag=$TT_ROOT/selftests/config
src=$("$TT_ROOT/scripts/kernel-source.sh")
ver=$(pkg_version "$TT_SRC_PKG")
key=$( { echo "$ver"; cat "$frag" "$0"; } | sha256sum | cut -c1-16)
O=$TT_CACHE/kernel/debug-$key
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
	[ "$bad" = 0 ] || die "debug kernel .config lacks options required by $frag (dependency missing?)"
	echo "config check: all options of selftests/config present in $O/.config" >&2
}

if [ -f "$done_stamp" ]; then
	echo "using cached kernel $O ($(cat "$O/include/config/kernel.release"))" >&2
else
	start=$(now)
	note "building debug kernel in $O (source $ver, -j$jobs)"
	rm -rf "$O"
	mkdir -p "$O"
	make -s -C "$src" O="$O" ARCH=x86_64 tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$O" "$O/.config" "$frag" >"$O/merge_config.log" 2>&1 ||
		{ cat "$O/merge_config.log" >&2; die "merge_config.sh failed"; }
	make -s -C "$src" O="$O" ARCH=x86_64 olddefconfig
	verify_config
	make -C "$src" O="$O" ARCH=x86_64 -j"$jobs" bzImage modules >"$O/build.log" 2>&1 ||
		{ tail -50 "$O/build.log" >&2; die "kernel build failed (full log: $O/build.log)"; }
	make -s -C "$src" O="$O" ARCH=x86_64 -j"$jobs" modules_prepare >>"$O/build.log" 2>&1 ||
		{ tail -50 "$O/build.log" >&2; die "modules_prepare failed (full log: $O/build.log)"; }
	[ -f "$O/Module.symvers" ] || die "no Module.symvers after the build"
	touch "$done_stamp"
	echo "debug kernel built in $(( $(now) - start ))s: $O" >&2
fi
verify_config

mkdir -p "$TT_OUT/kernels"
cat >"$(kernel_env debug)" <<EOT
KTAG=debug
KDIR=$O
KSRC=$src
VMLINUZ=$O/arch/x86/boot/bzImage
KREL=$(cat "$O/include/config/kernel.release")
EOT
