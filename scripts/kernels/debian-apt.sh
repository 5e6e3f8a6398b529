#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# apt-get / apt-cache on a private apt configuration under the cache that
# reaches Debian 13's suites (trixie, trixie-backports) and sid, on the
# same Debian archive mirror as the host's own apt sources; the host's
# sources, preferences and package state are never read or written (its
# apt.conf.d, e.g. a proxy, still applies).
#   scripts/kernels/debian-apt.sh [--update] apt-get|apt-cache ARGS...
#   scripts/kernels/debian-apt.sh --update      refresh the package lists only
#   scripts/kernels/debian-apt.sh --mirror      print the mirror used
# The lists are refreshed when older than TT_APT_MAX_AGE seconds (default
# 21600), or always with --update; a failed refresh with usable lists left
# is only a warning. Knobs:
#   TT_DEBIAN_MIRROR  archive URI (default: the host's Debian entry, the one
#                     with the host's codename as suite)
#   TT_APT_MAX_AGE    list age in seconds before a refresh (0: always)
# State: $TT_CACHE/apt/{etc,state,cache}. Also sourced by other scripts:
# then it only defines dapt and dapt_update.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

TT_APT_DIR=$TT_CACHE/apt
TT_APT_SUITES="trixie trixie-backports sid"

# host_mirror: URI of the host's Debian archive entry (suite = the host's
# codename, not a security suite), from the one-line and deb822 formats.
host_mirror() {
	local codename f
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || return 0
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v c="$codename" '$1 == "deb" {
			i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == c) { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# one stanza per paragraph: print its first URI when a suite matches
		awk -v c="$codename" -v RS= '{
			uri = ""; hit = 0; n = split($0, l, "\n")
			for (j = 1; j <= n; j++) {
				split(l[j], w, /[ \t]+/)
				if (w[1] == "URIs:") uri = w[2]
				if (w[1] == "Suites:") for (k = 2; k in w; k++) if (w[k] == c) hit = 1
			}
			if (hit && uri != "") { print uri; exit } }' "$f"
	done
}

dapt_mirror() {
	local m=${TT_DEBIAN_MIRROR:-}
	[ -n "$m" ] || m=$(host_mirror | sed -n 1p)
	[ -n "$m" ] || die "cannot find the Debian archive in the host's apt sources: set TT_DEBIAN_MIRROR"
	echo "${m%/}"
}

dapt_opts=(
	-o "Dir::Etc::SourceList=/dev/null"
	-o "Dir::Etc::SourceParts=$TT_APT_DIR/etc/sources.list.d"
	-o "Dir::Etc::Preferences=/dev/null"
	-o "Dir::Etc::PreferencesParts=$TT_APT_DIR/etc/preferences.d"
	-o "Dir::State=$TT_APT_DIR/state"
	-o "Dir::State::status=$TT_APT_DIR/state/status"
	-o "Dir::Cache=$TT_APT_DIR/cache"
	# binary caches of the lists (the host's apt.conf.d may turn them off):
	# without them each call parses the three suites' lists again
	-o "Dir::Cache::pkgcache=$TT_APT_DIR/cache/pkgcache.bin"
	-o "Dir::Cache::srcpkgcache=$TT_APT_DIR/cache/srcpkgcache.bin"
	-o "APT::Architecture=amd64"
	-o "APT::Architectures::=amd64"
	-o "APT::Get::AllowUnauthenticated=false"
	# the cache may be under a home _apt cannot enter
	-o "APT::Sandbox::User=root"
)

dapt_setup() {
	local m
	m=$(dapt_mirror)
	mkdir -p "$TT_APT_DIR"/etc/sources.list.d "$TT_APT_DIR"/etc/preferences.d \
		"$TT_APT_DIR"/state/lists/partial "$TT_APT_DIR"/cache/archives/partial
	[ -f "$TT_APT_DIR/state/status" ] || : >"$TT_APT_DIR/state/status"
	cat >"$TT_APT_DIR/etc/sources.list.d/tt-debian.sources.new" <<-EOF
	# written by scripts/kernels/debian-apt.sh: Debian 13 and sid for the tt_alloc tests
	Types: deb deb-src
	URIs: $m
	Suites: $TT_APT_SUITES
	Components: main
	Architectures: amd64
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	mv "$TT_APT_DIR/etc/sources.list.d/tt-debian.sources.new" \
		"$TT_APT_DIR/etc/sources.list.d/tt-debian.sources"
}

# dapt_update [force]: refresh the lists when missing, stale or forced.
dapt_update() {
	local stamp=$TT_APT_DIR/state/.tt_alloc-updated age
	dapt_setup
	if [ "${1:-}" != force ] && [ -f "$stamp" ] &&
		cmp -s "$stamp" "$TT_APT_DIR/etc/sources.list.d/tt-debian.sources"; then
		age=$(( $(now) - $(stat -c %Y "$stamp") ))
		[ "$age" -lt "${TT_APT_MAX_AGE:-21600}" ] && return 0
	fi
	note "apt-get update ($TT_APT_SUITES) in $TT_APT_DIR"
	if apt-get "${dapt_opts[@]}" -q update >"$TT_APT_DIR/update.log" 2>&1 &&
		! grep -q '^E:' "$TT_APT_DIR/update.log"; then
		cp "$TT_APT_DIR/etc/sources.list.d/tt-debian.sources" "$stamp"
	elif ls "$TT_APT_DIR"/state/lists/*_Packages* >/dev/null 2>&1; then
		note "warning: apt-get update failed, using the old lists (log: $TT_APT_DIR/update.log)"
		sed 's/^/    /' "$TT_APT_DIR/update.log" | tail -5 >&2
	else
		cat "$TT_APT_DIR/update.log" >&2
		die "apt-get update of the private Debian 13/sid lists failed (log: $TT_APT_DIR/update.log)"
	fi
}

# dapt apt-get|apt-cache ARGS...: run with the private configuration.
dapt() {
	local tool=$1
	shift
	"$tool" "${dapt_opts[@]}" "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	--mirror) dapt_mirror; exit 0 ;;
	--update)
		shift
		dapt_update force
		[ $# -gt 0 ] || exit 0 ;;
	*) dapt_update ;;
	esac
	case ${1:-} in
	apt-get | apt-cache) dapt "$@" ;;
	*) die "usage: $0 [--update] apt-get|apt-cache ARGS... | --update | --mirror" ;;
	esac
fi
