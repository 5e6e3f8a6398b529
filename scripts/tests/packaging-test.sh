#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Packaging test (run by `make check`, needs root, dkms and python3-sphinx):
#   1. make dkms-install / dkms build+install for every stock kernel whose
#      headers are installed (/usr/src/linux-headers-*-cloud-amd64), checks
#      the installed tt_alloc.ko's version, then make dkms-remove leaves no
#      trace (dkms status, /usr/src, /lib/modules/*/updates/dkms).
#      That state is the host's, not this tree's: the whole step holds
#      an exclusive flock on TT_DKMS_LOCK, so a second make check on the
#      host waits for the first one's step instead of removing its tree.
#   2. make install DESTDIR=$tmp: the exact file list; the pkg-config file;
#      the ttalloc Python package imports from there; pip installs it
#      offline from python/ into a venv;
#      make uninstall DESTDIR=$tmp leaves nothing
#   3. make htmldocs (sphinx -W) into out/htmldocs
# Nothing is loaded into the host kernel. Prints TAP; exits 1 on failure.
#   scripts/tests/packaging-test.sh [--no-dkms] [--no-install] [--no-docs]
#   TT_PKG_KERNELS="6.1.0-56-cloud-amd64 ..."  kernels for the DKMS test
#   TT_DKMS_LOCK=/run/lock/tt_alloc-dkms.lock   the host-wide lock of step 1
#   TT_DKMS_LOCK_WAIT=900   seconds step 1 waits for it, then fails
set -uo pipefail
. "$(dirname "$0")/../common.sh"
cd "$TT_ROOT" || exit 1

do_dkms=1 do_install=1 do_docs=1
for a in "$@"; do
	case $a in
	--no-dkms) do_dkms=0 ;;
	--no-install) do_install=0 ;;
	--no-docs) do_docs=0 ;;
	*) die "usage: $0 [--no-dkms] [--no-install] [--no-docs]" ;;
	esac
done

logs=$TT_OUT/logs
mkdir -p "$logs"
mk=(make --no-print-directory -f Makefile -f mk/packaging.mk)
# the top Makefile may include mk/packaging.mk already: then once is enough
grep -qs '^include mk/packaging.mk' Makefile && mk=(make --no-print-directory)
version=$(cat VERSION)
n=0 failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tt-pkg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
run() { # LOG CMD...: run with output to LOG
	local log=$1
	shift
	echo "+ $*" >>"$log"
	"$@" >>"$log" 2>&1
}

# ---- 1. DKMS -------------------------------------------------------------------
# /usr/src/tt_alloc-<version>, /var/lib/dkms and /lib/modules/*/updates are
# one per host: another make check's dkms-remove would take this one's
# tree away mid-build. Holds the lock on fd dkms_fd until step 1 ends.
dkms_lock=${TT_DKMS_LOCK:-/run/lock/tt_alloc-dkms.lock}
dkms_wait=${TT_DKMS_LOCK_WAIT:-900}
take_dkms_lock() {
	if ! exec {dkms_fd}>>"$dkms_lock"; then
		dkms_why="cannot open $dkms_lock"
		return 1
	fi
	flock -n "$dkms_fd" && return 0
	echo "# waiting up to ${dkms_wait}s for $dkms_lock: another run's DKMS test holds it"
	flock -w "$dkms_wait" "$dkms_fd" && return 0
	dkms_why="$dkms_lock still held by another run after ${dkms_wait}s"
	return 1
}
if [ "$do_dkms" = 1 ]; then
	kernels=${TT_PKG_KERNELS:-$(for d in /usr/src/linux-headers-*-cloud-amd64; do
		[ -f "$d/Makefile" ] && echo "${d#/usr/src/linux-headers-}"; done)}
	kernels=$(echo $kernels)	# one line
	if ! command -v dkms >/dev/null; then
		skip "dkms" "dkms not installed (make deps)"
	elif [ "$(id -u)" != 0 ]; then
		skip "dkms" "needs root"
	elif [ -z "$kernels" ]; then
		skip "dkms" "no /usr/src/linux-headers-*-cloud-amd64"
	elif ! take_dkms_lock; then
		tap_ok 1 "dkms: $dkms_why: the DKMS test did not run"
	else
		log=$logs/packaging-dkms.log
		: >"$log"
		# a leftover of an interrupted run would make `dkms add` fail
		run "$log" "${mk[@]}" dkms-remove
		run "$log" "${mk[@]}" dkms-install KVER="${kernels%% *}" KDIR=/usr/src/linux-headers-"${kernels%% *}"
		tap_ok $? "dkms add/build/install tt_alloc/$version (make dkms-install)" "$log"
		grep -q "^PACKAGE_VERSION=\"$version\"$" /usr/src/tt_alloc-"$version"/dkms.conf
		tap_ok $? "dkms.conf in /usr/src/tt_alloc-$version has PACKAGE_VERSION=\"$version\"" "$log"
		for k in $kernels; do
			if [ "$k" != "${kernels%% *}" ]; then
				run "$log" dkms build tt_alloc/"$version" -k "$k" &&
					run "$log" dkms install tt_alloc/"$version" -k "$k"
				tap_ok $? "dkms build + install for $k" "$log"
			fi
			ko=$(ls /lib/modules/"$k"/updates/dkms/tt_alloc.ko* 2>/dev/null | head -1)
			v=
			[ -n "$ko" ] && v=$(modinfo -F version "$ko" 2>>"$log")
			[ "$v" = "$version" ] && dkms status tt_alloc/"$version" -k "$k" 2>>"$log" | grep -q installed
			tap_ok $? "$k: ${ko:-no tt_alloc.ko in /lib/modules/$k/updates/dkms}, version '$v', dkms status installed" "$log"
			modinfo -k "$k" -F filename tt_alloc 2>/dev/null | grep -q "/updates/dkms/"
			tap_ok $? "$k: depmod ran (modinfo -k $k tt_alloc finds the dkms module)" "$log"
		done
		run "$log" "${mk[@]}" dkms-remove
		tap_ok $? "make dkms-remove (dkms remove --all)" "$log"
		left=$( (dkms status tt_alloc 2>/dev/null; ls -d /usr/src/tt_alloc-* /var/lib/dkms/tt_alloc \
			/lib/modules/*/updates/dkms/tt_alloc.ko* 2>/dev/null) | head -5)
		[ -z "$left" ]
		tap_ok $? "nothing left after dkms-remove${left:+: $(echo $left)}" "$log"
		exec {dkms_fd}>&-
	fi
fi

# ---- 2. make install / uninstall with DESTDIR ------------------------------------
if [ "$do_install" = 1 ]; then
	k=$(for d in /usr/src/linux-headers-*-cloud-amd64; do [ -f "$d/Makefile" ] && echo "${d#/usr/src/linux-headers-}"; done | tail -1)
	log=$logs/packaging-install.log
	: >"$log"
	dest=$tmp/root
	if [ -n "$k" ]; then
		modargs=(KDIR=/usr/src/linux-headers-"$k")
	else
		modargs=(INSTALL_MODULE=0)
		k=
	fi
	run "$log" "${mk[@]}" install DESTDIR="$dest" "${modargs[@]}"
	tap_ok $? "make install DESTDIR=\$tmp ${modargs[*]}" "$log"
	p=/usr/local
	# the ttalloc Python package: where Debian's python3 looks under /usr/local
	py=$p/lib/python$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')/dist-packages
	{
		[ -n "$k" ] && echo "/lib/modules/$k/updates/tt_alloc.ko"
		cat <<-EOF
		/etc/modprobe.d/tt_alloc.conf
		/etc/modules-load.d/tt_alloc.conf
		/etc/systemd/system/sysinit.target.wants/tt-alloc-configure.service
		/etc/systemd/system/tt-alloc-configure.service
		/etc/udev/rules.d/60-tt_alloc.rules
		/etc/udev/rules.d/61-tt_alloc-configure.rules
		$p/bin/tt-alloc-record
		$p/bin/tt-alloc-replay
		$p/bin/tt-alloc-smi
		$p/include/linux/tt_alloc.h
		$p/include/tt_alloc/libttalloc.h
		$p/include/tt_alloc/tt_alloc.hpp
		$p/lib/libttalloc.a
		$p/lib/libttalloc.so
		$p/lib/libttalloc.so.1
		$p/lib/libttalloc.so.1.0.0
		$p/lib/pkgconfig/libttalloc.pc
		$p/share/man/man8/tt-alloc-record.8
		$p/share/man/man8/tt-alloc-replay.8
		$p/share/man/man8/tt-alloc-smi.8
		$p/share/tt_alloc/install-manifest
		$py/ttalloc/__init__.py
		$py/ttalloc/_uapi.py
		$py/ttalloc/_version.py
		$py/ttalloc/pytest_plugin.py
		$py/ttalloc-$version.dist-info/INSTALLER
		$py/ttalloc-$version.dist-info/METADATA
		$py/ttalloc-$version.dist-info/entry_points.txt
		$py/ttalloc-$version.dist-info/top_level.txt
		EOF
	} | sort >"$tmp/want"
	(cd "$dest" 2>/dev/null && find . ! -type d | sed 's|^\.||' | grep -v "^$p/share/tt_alloc/traces/" | sort) >"$tmp/got"
	diff -u "$tmp/want" "$tmp/got" >"$tmp/diff"
	tap_ok $? "installed file list (traces aside)" "$tmp/diff"
	ls "$dest$p"/share/tt_alloc/traces/*.trace >/dev/null 2>&1
	tap_ok $? "sample traces in $p/share/tt_alloc/traces" "$log"
	[ "$(readlink "$dest$p/lib/libttalloc.so")" = libttalloc.so.1 ] &&
		[ "$(readlink "$dest$p/lib/libttalloc.so.1")" = libttalloc.so.1.0.0 ] &&
		grep -q 'SONAME *libttalloc.so.1$' <<<"$(objdump -p "$dest$p/lib/libttalloc.so.1.0.0")"
	tap_ok $? "library symlinks and soname" "$log"
	[ "$(PKG_CONFIG_SYSROOT_DIR="" PKG_CONFIG_LIBDIR="$dest$p/lib/pkgconfig" pkg-config --modversion libttalloc 2>>"$log")" = "$version" ] &&
		PKG_CONFIG_LIBDIR="$dest$p/lib/pkgconfig" pkg-config --cflags --libs libttalloc 2>>"$log" | grep -q -- "-I$p/include .*-lttalloc"
	tap_ok $? "libttalloc.pc: version $version, -I$p/include -lttalloc" "$log"
	# the installed headers compile on their own
	printf '#include <tt_alloc/libttalloc.h>\n#include <linux/tt_alloc.h>\nint main(void) { return TT_ALLOC_API_VERSION - 1; }\n' >"$tmp/hdr.c"
	cc -I"$dest$p/include" -o "$tmp/hdr" "$tmp/hdr.c" -L"$dest$p/lib" -l:libttalloc.a -pthread >>"$log" 2>&1 && "$tmp/hdr"
	tap_ok $? "installed headers and libttalloc.a build a program" "$log"
	printf '#include <tt_alloc/tt_alloc.hpp>\nint main() { tt_alloc_usage u{}; return ttalloc::context::open().enabled() + (int)u.used[0]; }\n' >"$tmp/hdr.cpp"
	g++ -std=c++17 -Wall -Wextra -Werror -pedantic -I"$dest$p/include" -o "$tmp/hdrxx" "$tmp/hdr.cpp" \
		-L"$dest$p/lib" -l:libttalloc.a -pthread >>"$log" 2>&1 && env -u TT_ALLOC_TRACKING_ENABLED "$tmp/hdrxx"
	tap_ok $? "installed tt_alloc.hpp builds a C++17 -pedantic program" "$log"
	[ "$("$dest$p/bin/tt-alloc-replay" --version 2>&1 | grep -c "$version")" -ge 1 ]
	tap_ok $? "tt-alloc-replay --version says $version" "$log"
	# the installed package imports, finds the installed library, says
	# the version and registers the pytest plugin's entry point
	out=$(PYTHONPATH="$dest$py" /usr/bin/python3 -c '
import importlib.metadata as m, ttalloc
print(ttalloc.__version__, ttalloc.library_version(), ttalloc.library_path())
print(*[e.value for e in m.entry_points(group="pytest11") if e.name == "ttalloc.pytest_plugin"])
t = ttalloc.open()
print(t.enabled)' 2>>"$log")
	[ "$out" = "$(printf '%s %s %s\nttalloc.pytest_plugin\nFalse' "$version" "$version" "$dest$p/lib/libttalloc.so.1")" ]
	tap_ok $? "python3: installed ttalloc $version imports, loads the installed libttalloc, pytest11 entry point" "$log"
	# uninstall must also remove the bytecode Python writes on import
	PYTHONPATH="$dest$py" /usr/bin/python3 -c 'import ttalloc.pytest_plugin' 2>>"$log"
	# pip, offline, from a copy of python/ (pip builds in the source dir)
	cp -a python "$tmp/pysrc" && rm -rf "$tmp/pysrc/build" "$tmp/pysrc"/*.egg-info
	if /usr/bin/python3 -m venv --system-site-packages "$tmp/venv" >>"$log" 2>&1; then
		run "$log" "$tmp/venv/bin/pip" install --no-index --no-build-isolation "$tmp/pysrc" &&
			out=$(cd "$tmp" && TT_ALLOC_LIBRARY="$dest$p/lib/libttalloc.so.1" "$tmp/venv/bin/python" -c '
import importlib.metadata as m, ttalloc
print(ttalloc.__version__, m.version("ttalloc"), ttalloc.__file__.startswith("'"$tmp/venv/"'"))
print(*[e.value for e in m.entry_points(group="pytest11") if e.name == "ttalloc.pytest_plugin"])' 2>>"$log") &&
			[ "$out" = "$(printf '%s %s True\nttalloc.pytest_plugin' "$version" "$version")" ]
		tap_ok $? "pip install --no-index --no-build-isolation ./python in a venv: ttalloc $version, pytest11 entry point" "$log"
	else
		tap_ok 1 "python3 -m venv (python3-venv installed?)" "$log"
	fi
	if [ -n "$k" ]; then
		[ "$(modinfo -F version "$dest/lib/modules/$k/updates/tt_alloc.ko")" = "$version" ] &&
			[ "$(modinfo -F vermagic "$dest/lib/modules/$k/updates/tt_alloc.ko" | cut -d' ' -f1)" = "$k" ]
		tap_ok $? "tt_alloc.ko: version $version, vermagic $k" "$log"
	fi
	grep -q '^KERNEL=="tt_alloc", SUBSYSTEM=="misc", GROUP="tenstorrent", MODE="0660"$' "$dest/etc/udev/rules.d/60-tt_alloc.rules"
	tap_ok $? "udev rule: group tenstorrent, mode 0660" "$log"
	u=$dest/etc/systemd/system
	grep -qx "ExecStart=$p/bin/tt-alloc-smi --configure" "$u/tt-alloc-configure.service" &&
		[ "$(readlink "$u/sysinit.target.wants/tt-alloc-configure.service")" = ../tt-alloc-configure.service ] &&
		grep -q 'SUBSYSTEM=="tenstorrent".*SYSTEMD_WANTS.*tt-alloc-configure.service' "$dest/etc/udev/rules.d/61-tt_alloc-configure.rules"
	tap_ok $? "tt-alloc-configure.service: runs $p/bin/tt-alloc-smi --configure, enabled, started by udev" "$log"
	missing=
	for prm in devices arch sweep_interval_ms max_allocations_per_file max_bytes_per_file enforce_capacity; do
		grep -q "^#options tt_alloc .*$prm=" "$dest/etc/modprobe.d/tt_alloc.conf" || missing="$missing $prm"
	done
	[ -z "$missing" ] && ! grep -v '^#' "$dest/etc/modprobe.d/tt_alloc.conf" | grep -q .
	tap_ok $? "modprobe.d example: every parameter documented, all commented out${missing:+ (missing:$missing)}" "$log"
	# install twice (an upgrade) must not lose track of directories
	run "$log" "${mk[@]}" install DESTDIR="$dest" "${modargs[@]}"
	tap_ok $? "make install again over the first one" "$log"
	run "$log" "${mk[@]}" uninstall DESTDIR="$dest"
	tap_ok $? "make uninstall DESTDIR=\$tmp" "$log"
	left=$(cd "$dest" 2>/dev/null && find . -mindepth 1 | head -5)
	[ -d "$dest" ] && [ -z "$left" ]
	tap_ok $? "nothing left after uninstall${left:+: $(echo $left)}" "$log"
	rm -rf "$dest"
fi

# ---- 3. HTML documentation ---------------------------------------------------------
if [ "$do_docs" = 1 ]; then
	log=$logs/packaging-htmldocs.log
	: >"$log"
	if ! command -v sphinx-build >/dev/null; then
		tap_ok 1 "htmldocs: sphinx-build missing (make deps: python3-sphinx)"
	else
		run "$log" "${mk[@]}" htmldocs && [ -f "$TT_OUT/htmldocs/index.html" ]
		tap_ok $? "htmldocs (sphinx-build -W into out/htmldocs)" "$log"
	fi
fi

echo "1..$n"
[ "$failed" = 0 ] || { echo "# $failed of $n failed" >&2; exit 1; }
exit 0
