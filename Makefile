# SPDX-License-Identifier: GPL-2.0
#
# tt_alloc: out-of-tree kernel module + userspace tools.
#
#   make                 modules + tools (KDIR: kernel build tree)
#   make modules         the module against KDIR (default: running kernel)
#   make tools           userspace tools, libs and guest tests into out/
#   make selftests       kselftest-harness tests into out/tests
#   make deps            install build/test dependencies + stock kernels
#   make kernel          build (or reuse) the debug test kernel
#   make lint            static checks (checkpatch, sparse, W=1, uapi)
#   make check           everything, tested in QEMU; ends with the summary
#   make check-full      the same with the long programs at full length,
#                        the tools' guest tests on every kernel, KCSAN
#   make demo            the demo in a VM on the stock 6.12 kernel
#   make install         module, tools, library, udev/modprobe files
#                        (PREFIX, DESTDIR); make uninstall
#   make dkms-install    register with DKMS; make dkms-remove
#   make deb             Debian packages of debian/ into out/deb, lintian
#                        (DEB_SUITE=trixie: in the Debian 13 build root)
#   make htmldocs        Documentation/ as HTML into out/htmldocs
#   make abi-check       libttalloc.so against its ABI baseline (abidiff)
#   make abi-baseline    rewrite that baseline, for a deliberate ABI change
#   make bench           benchmarks in a VM (bench/results.json, plots)
#   make clean

KDIR	?= /lib/modules/$(shell uname -r)/build
OUT	:= $(CURDIR)/out

.PHONY: all modules tools selftests deps kernel stock-kernels lint check check-full demo clean help

all: modules tools

modules:
	@test -f "$(KDIR)/Makefile" || { \
	  echo "error: no kernel build tree at KDIR=$(KDIR)" >&2; \
	  echo "       install linux-headers-$$(uname -r) or pass KDIR=/path/to/kernel/build" >&2; \
	  exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	@if [ -f userspace-tools/Makefile ]; then \
	  $(MAKE) -C userspace-tools OUT=$(OUT); \
	else echo "note: userspace-tools/Makefile missing: no tools built"; fi

# the kselftest harness header comes from the linux-source-6.12 tree
selftests:
	$(MAKE) -C selftests/tt_alloc OUT=$(OUT)

deps:
	scripts/deps.sh

# libttalloc's ABI baseline, userspace-tools/lib/libttalloc.abi
.PHONY: abi-check abi-baseline
abi-check abi-baseline: tools
	$(MAKE) -C userspace-tools OUT=$(OUT) $@

kernel:
	scripts/kernels/build-kernel.sh

STOCK_KERNELS ?= 6.1 6.12 6.18 7.x

stock-kernels:
	for k in $(STOCK_KERNELS); do scripts/kernels/fetch-kernel.sh $$k || exit 1; done

lint:
	scripts/kernels/build-kernel.sh
	scripts/tests/lint.sh

check:
	scripts/tests/check.sh

check-full:
	TT_CHECK_FULL=1 scripts/tests/check.sh

demo:
	@scripts/demo.sh

clean:
	@if [ -f "$(KDIR)/Makefile" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	@if [ -f userspace-tools/Makefile ]; then $(MAKE) -C userspace-tools OUT=$(OUT) clean; fi
	for d in selftests/tt_alloc bench; do $(MAKE) -C $$d OUT=$(OUT) clean; done
	rm -rf $(OUT)

# install, uninstall, dkms-install, dkms-remove, htmldocs
include mk/packaging.mk
# bench, bench-quick
include mk/bench.mk

help:
	@sed -n '3,24s/^# \{0,1\}//p' Makefile
