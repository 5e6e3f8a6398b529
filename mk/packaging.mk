# SPDX-License-Identifier: GPL-2.0
#
# Packaging, install and documentation targets of tt_alloc, included from
# the top-level Makefile (`include mk/packaging.mk`) or used standalone:
#   make -f Makefile -f mk/packaging.mk <target>
#
#   make install       module, tools, library, headers, pkg-config file,
#                      man page, the ttalloc Python package, udev rules,
#                      modprobe.d and modules-load.d files, the systemd unit
#                      of tt-alloc-smi --configure (DESTDIR, PREFIX,
#                      KVER/KDIR honoured)
#   make uninstall     remove exactly what `make install` put there
#   make dkms-install  sources to /usr/src/tt_alloc-$(VERSION), dkms
#                      add/build/install for KVER
#   make dkms-source   only the module sources (Kbuild VERSION module uapi,
#                      no dkms.conf) to $(DESTDIR)/usr/src/tt_alloc-$(VERSION):
#                      what debian/rules puts in tt-alloc-dkms
#   make deb           the Debian packages (debian/) into out/deb, built in
#                      a copy of the tree, then lintian (scripts/deb.sh;
#                      DEB_SUITE=trixie: in the Debian 13 build root)
#   make dkms-remove   dkms remove --all, sources removed
#   make htmldocs      Sphinx HTML of Documentation/ into out/htmldocs (-W:
#                      warnings are errors; -E: every page re-read)
#
# Knobs (defaults):
#   PREFIX=/usr/local  tools, library, headers, man page
#   PYTHONDIR          the ttalloc package: /usr/lib/python3/dist-packages
#                      for PREFIX=/usr, else $(PREFIX)/lib/python3.X/dist-packages
#   DESTDIR=           staging root; when set, depmod and udevadm are skipped
#   KVER               kernel release the module goes to; default: that of
#                      KDIR (UTS_RELEASE), else uname -r
#   SYSCONFDIR=/etc    udev rule -> $(SYSCONFDIR)/udev/rules.d/60-tt_alloc.rules
#                      options   -> $(SYSCONFDIR)/modprobe.d/tt_alloc.conf
#                      boot load -> $(SYSCONFDIR)/modules-load.d/tt_alloc.conf
#                      boot configuration (tt-alloc-smi --configure) ->
#                        $(SYSCONFDIR)/systemd/system/tt-alloc-configure.service,
#                        its sysinit.target.wants/ link, and
#                        $(SYSCONFDIR)/udev/rules.d/61-tt_alloc-configure.rules
#   INSTALL_MODULE=1   0: tools, library and config files only (no KDIR needed)
#   INSTALL_CONFIG=1   0: no udev/modprobe.d/modules-load.d/systemd files
#
# `make install` stages everything in out/pkg/stage, then copies it under
# $(DESTDIR)/ and writes the list of the files and of the directories it
# created to $(PREFIX)/share/tt_alloc/install-manifest; `make uninstall`
# (same DESTDIR and PREFIX) removes those files (and the bytecode Python
# cached for the .py ones), then those directories if empty, then the
# manifest.
#
# Internal names are prefixed TT_PKG_ / tt-pkg- so as not to clash with
# the top-level Makefile.

# Whatever the place of the include, this file's targets never become the
# default goal (restored at the end).
TT_PKG_SAVED_GOAL := $(.DEFAULT_GOAL)
TT_PKG_ROOT	:= $(abspath $(dir $(abspath $(lastword $(MAKEFILE_LIST))))/..)
OUT		?= $(TT_PKG_ROOT)/out
KDIR		?= /lib/modules/$(shell uname -r)/build
TT_PKG_VERSION	:= $(shell cat $(TT_PKG_ROOT)/VERSION 2>/dev/null)
PREFIX		?= /usr/local
DESTDIR		?=
SYSCONFDIR	?= /etc
INSTALL_MODULE	?= 1
INSTALL_CONFIG	?= 1
# The release KDIR was built for (UTS_RELEASE: Debian's kernel.release
# file holds the upstream version instead), else the running kernel's.
ifeq ($(origin KVER),undefined)
KVER		:= $(or $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
			$(KDIR)/include/generated/utsrelease.h 2>/dev/null),$(shell uname -r))
endif

TT_PKG_DIR	:= $(OUT)/pkg
TT_PKG_STAGE	:= $(TT_PKG_DIR)/stage
TT_PKG_KBUILD	:= $(TT_PKG_DIR)/kbuild-$(KVER)
TT_PKG_MANIFEST	:= $(PREFIX)/share/tt_alloc/install-manifest
TT_PKG_MODDIR	:= /lib/modules/$(KVER)/updates
TT_PKG_UDEVDIR	:= $(SYSCONFDIR)/udev/rules.d
TT_PKG_MODPROBEDIR := $(SYSCONFDIR)/modprobe.d
TT_PKG_MODLOADDIR  := $(SYSCONFDIR)/modules-load.d
TT_PKG_UNITDIR	:= $(SYSCONFDIR)/systemd/system
TT_PKG_MODSRC	:= Kbuild VERSION module uapi
TT_PKG_DKMS_SRC	:= /usr/src/tt_alloc-$(TT_PKG_VERSION)
TT_PKG_SPHINX	?= sphinx-build
TT_PKG_HTMLDIR	:= $(OUT)/htmldocs

# Does userspace-tools/Makefile provide an install target?
TT_PKG_UT_INSTALL := $(shell grep -qs '^install:' $(TT_PKG_ROOT)/userspace-tools/Makefile && echo 1)

.PHONY: install uninstall dkms-install dkms-source dkms-remove deb htmldocs \
	tt-pkg-check-version tt-pkg-module tt-pkg-stage tt-pkg-stage-tools

tt-pkg-check-version:
	@test -n "$(TT_PKG_VERSION)" || { echo "error: $(TT_PKG_ROOT)/VERSION missing or empty" >&2; exit 1; }

# ---- module, built in a private copy (out/pkg/kbuild-KVER) so that it
# never clashes with another build of the tree ---------------------------
tt-pkg-module:
	@test -f "$(KDIR)/Makefile" || { \
	  echo "error: no kernel build tree at KDIR=$(KDIR) (KVER=$(KVER))" >&2; \
	  echo "       install linux-headers-$(KVER), pass KDIR=/path/to/kernel/build," >&2; \
	  echo "       or INSTALL_MODULE=0 for the tools and config files only" >&2; \
	  exit 1; }
	rm -rf $(TT_PKG_KBUILD)
	mkdir -p $(TT_PKG_KBUILD)
	cd $(TT_PKG_ROOT) && cp -a $(TT_PKG_MODSRC) $(TT_PKG_KBUILD)/
	$(MAKE) -C $(KDIR) M=$(TT_PKG_KBUILD) modules

# ---- userspace, into the stage ----------------------------------------------
tt-pkg-stage-tools: tt-pkg-check-version
	rm -rf $(TT_PKG_STAGE)
	mkdir -p $(TT_PKG_STAGE)
ifeq ($(TT_PKG_UT_INSTALL),1)
	$(MAKE) -C $(TT_PKG_ROOT)/userspace-tools OUT=$(OUT) install \
		DESTDIR=$(TT_PKG_STAGE) PREFIX=$(PREFIX)
else
	@echo "note: userspace-tools/Makefile has no install target: installing from $(OUT)" >&2
	@test -d $(OUT)/bin || { echo "error: $(OUT)/bin missing: run make tools" >&2; exit 1; }
	install -d $(TT_PKG_STAGE)$(PREFIX)/bin $(TT_PKG_STAGE)$(PREFIX)/lib/pkgconfig \
		$(TT_PKG_STAGE)$(PREFIX)/include/linux
	install -m 755 $(OUT)/bin/tt-alloc-* $(TT_PKG_STAGE)$(PREFIX)/bin/
	cp -P $(OUT)/lib/libttalloc.so* $(OUT)/lib/libttalloc.a $(TT_PKG_STAGE)$(PREFIX)/lib/
	if [ -f $(TT_PKG_ROOT)/userspace-tools/lib/libttalloc.pc.in ]; then \
	  sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$${prefix}/lib|' \
	      -e 's|@VERSION@|$(TT_PKG_VERSION)|' $(TT_PKG_ROOT)/userspace-tools/lib/libttalloc.pc.in \
	      > $(TT_PKG_STAGE)$(PREFIX)/lib/pkgconfig/libttalloc.pc; fi
	install -m 644 $(TT_PKG_ROOT)/uapi/linux/tt_alloc.h $(TT_PKG_STAGE)$(PREFIX)/include/linux/
	if [ -d $(OUT)/include/tt_alloc ]; then \
	  install -d $(TT_PKG_STAGE)$(PREFIX)/include/tt_alloc && \
	  install -m 644 $(OUT)/include/tt_alloc/*.h $(TT_PKG_STAGE)$(PREFIX)/include/tt_alloc/; fi
	if [ -d $(OUT)/share/man/man8 ]; then \
	  install -d $(TT_PKG_STAGE)$(PREFIX)/share/man/man8 && \
	  install -m 644 $(OUT)/share/man/man8/*.8 $(TT_PKG_STAGE)$(PREFIX)/share/man/man8/; fi
endif

TT_PKG_STAGE_DEPS := tt-pkg-check-version tt-pkg-stage-tools
ifeq ($(INSTALL_MODULE),1)
TT_PKG_STAGE_DEPS += tt-pkg-module
endif

tt-pkg-stage: $(TT_PKG_STAGE_DEPS)
ifeq ($(INSTALL_MODULE),1)
	install -D -m 644 $(TT_PKG_KBUILD)/tt_alloc.ko $(TT_PKG_STAGE)$(TT_PKG_MODDIR)/tt_alloc.ko
endif
ifeq ($(INSTALL_CONFIG),1)
	install -D -m 644 $(TT_PKG_ROOT)/packaging/udev/60-tt_alloc.rules \
		$(TT_PKG_STAGE)$(TT_PKG_UDEVDIR)/60-tt_alloc.rules
	install -D -m 644 $(TT_PKG_ROOT)/packaging/modprobe.d/tt_alloc.conf \
		$(TT_PKG_STAGE)$(TT_PKG_MODPROBEDIR)/tt_alloc.conf
	install -D -m 644 $(TT_PKG_ROOT)/packaging/modules-load.d/tt_alloc.conf \
		$(TT_PKG_STAGE)$(TT_PKG_MODLOADDIR)/tt_alloc.conf
	install -D -m 644 $(TT_PKG_ROOT)/packaging/udev/61-tt_alloc-configure.rules \
		$(TT_PKG_STAGE)$(TT_PKG_UDEVDIR)/61-tt_alloc-configure.rules
	install -d $(TT_PKG_STAGE)$(TT_PKG_UNITDIR)/sysinit.target.wants
	sed 's|@BINDIR@|$(PREFIX)/bin|g' $(TT_PKG_ROOT)/packaging/systemd/tt-alloc-configure.service \
		>$(TT_PKG_STAGE)$(TT_PKG_UNITDIR)/tt-alloc-configure.service
	chmod 644 $(TT_PKG_STAGE)$(TT_PKG_UNITDIR)/tt-alloc-configure.service
	ln -sf ../tt-alloc-configure.service \
		$(TT_PKG_STAGE)$(TT_PKG_UNITDIR)/sysinit.target.wants/tt-alloc-configure.service
endif
	mkdir -p $(TT_PKG_STAGE)$(dir $(TT_PKG_MANIFEST))
	touch $(TT_PKG_STAGE)$(TT_PKG_MANIFEST)

# ---- install / uninstall ----------------------------------------------------
# Manifest lines: "d DIR" for a directory this install created, "f PATH"
# for a file or symlink; paths without DESTDIR.
install: tt-pkg-stage
	@set -e; stage=$(TT_PKG_STAGE); dest='$(DESTDIR)'; \
	man=$$stage$(TT_PKG_MANIFEST); new=$(TT_PKG_DIR)/manifest.new; : >$$new; \
	for d in $$(cd $$stage && find . -mindepth 1 -type d | sed 's|^\.||' | sort); do \
	  [ -d "$$dest$$d" ] || echo "d $$d" >>$$new; done; \
	(cd $$stage && find . ! -type d | sed 's|^\.|f |' | sort) >>$$new; \
	mv $$new $$man; \
	if [ -e "$$dest$(TT_PKG_MANIFEST)" ]; then \
	  echo "note: replacing a previous install (its manifest is merged)" >&2; \
	  cat "$$dest$(TT_PKG_MANIFEST)" >>$$man; \
	  sort -u -o $$man $$man; fi; \
	mkdir -p "$$dest/"; \
	cp -a $$stage/. "$$dest/"; \
	echo "installed $$(grep -c '^f ' $$man) files under $${dest:-/} (manifest: $$dest$(TT_PKG_MANIFEST))"
ifeq ($(INSTALL_MODULE),1)
	@if [ -z "$(DESTDIR)" ]; then echo "depmod -a $(KVER)"; depmod -a $(KVER); \
	else echo "DESTDIR set: depmod skipped (run depmod -a $(KVER) on the target)"; fi
endif
ifeq ($(INSTALL_CONFIG),1)
	@if [ -z "$(DESTDIR)" ] && command -v udevadm >/dev/null && [ -d /run/udev ]; then \
	  udevadm control --reload || true; fi
	@if [ -z "$(DESTDIR)" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then \
	  systemctl daemon-reload || true; fi
	@if [ -z "$(DESTDIR)" ] && ! getent group tenstorrent >/dev/null; then \
	  echo "note: group 'tenstorrent' does not exist: groupadd --system tenstorrent" >&2; fi
endif

uninstall:
	@set -e; dest='$(DESTDIR)'; man="$$dest$(TT_PKG_MANIFEST)"; \
	[ -f "$$man" ] || { echo "error: $$man missing: nothing installed with DESTDIR='$(DESTDIR)' PREFIX=$(PREFIX)" >&2; exit 1; }; \
	list=$$(cat "$$man"); \
	mods=$$(echo "$$list" | sed -n 's|^f /lib/modules/\([^/]*\)/updates/tt_alloc\.ko$$|\1|p'); \
	echo "$$list" | sed -n 's/^f //p' | while read -r f; do rm -f "$$dest$$f"; \
	  case $$f in *.py) b=$${f##*/}; rm -f "$$dest$${f%/*}/__pycache__/$${b%.py}".*.pyc; \
	    rmdir "$$dest$${f%/*}/__pycache__" 2>/dev/null || true ;; esac; done; \
	echo "$$list" | sed -n 's/^d //p' | sort -r | while read -r d; do \
	  rmdir "$$dest$$d" 2>/dev/null || true; done; \
	echo "removed what $$man listed"; \
	if [ -z "$$dest" ]; then for k in $$mods; do echo "depmod -a $$k"; depmod -a $$k; done; fi

# ---- DKMS -----------------------------------------------------------------------
# the sources DKMS builds from; debian/rules: DESTDIR=debian/tt-alloc-dkms
dkms-source: tt-pkg-check-version
	rm -rf $(DESTDIR)$(TT_PKG_DKMS_SRC)
	mkdir -p $(DESTDIR)$(TT_PKG_DKMS_SRC)
	cd $(TT_PKG_ROOT) && cp -R $(TT_PKG_MODSRC) $(DESTDIR)$(TT_PKG_DKMS_SRC)/

dkms-install: tt-pkg-check-version
	@command -v dkms >/dev/null || { echo "error: dkms missing (apt-get install dkms)" >&2; exit 1; }
	$(MAKE) -f $(TT_PKG_ROOT)/mk/packaging.mk dkms-source DESTDIR=
	sed 's/#MODULE_VERSION#/$(TT_PKG_VERSION)/' $(TT_PKG_ROOT)/dkms.conf >$(TT_PKG_DKMS_SRC)/dkms.conf
	dkms add tt_alloc/$(TT_PKG_VERSION)
	dkms build tt_alloc/$(TT_PKG_VERSION) -k $(KVER)
	dkms install tt_alloc/$(TT_PKG_VERSION) -k $(KVER)

dkms-remove: tt-pkg-check-version
	@command -v dkms >/dev/null || { echo "error: dkms missing (apt-get install dkms)" >&2; exit 1; }
	if dkms status tt_alloc/$(TT_PKG_VERSION) 2>/dev/null | grep -q .; then \
	  dkms remove tt_alloc/$(TT_PKG_VERSION) --all; fi
	rm -rf $(TT_PKG_DKMS_SRC)

# ---- Debian packages (debian/): built in a copy of the tree -----------------
deb:
	DEB_SUITE="$(DEB_SUITE)" $(TT_PKG_ROOT)/scripts/deb.sh

# ---- documentation ----------------------------------------------------------------
htmldocs:
	@command -v $(TT_PKG_SPHINX) >/dev/null || { echo "error: $(TT_PKG_SPHINX) missing (apt-get install python3-sphinx)" >&2; exit 1; }
	$(TT_PKG_SPHINX) -E -W --keep-going -q -b html -d $(OUT)/htmldocs.doctrees \
		$(TT_PKG_ROOT)/Documentation $(TT_PKG_HTMLDIR)
	@echo "HTML documentation: $(TT_PKG_HTMLDIR)/index.html"

.DEFAULT_GOAL := $(TT_PKG_SAVED_GOAL)
