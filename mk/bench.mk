# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks of tt_alloc, included from the top-level Makefile
# (`include mk/bench.mk`) or used standalone:
#   make -f Makefile -f mk/bench.mk bench-quick
#
#   make bench        the full benchmark in a QEMU guest on the stock 6.12
#                     kernel: prints the table, writes bench/results.json
#                     and bench/scaling.png, bench/reclaim.png (gnuplot-nox)
#   make bench-quick  small N, few repetitions, same code paths; prints
#                     "ok 1 bench-quick" or "not ok 1 bench-quick" and
#                     fails; no gnuplot needed (run by `make check`)
#
# Both fetch the stock 6.12 kernel if `make stock-kernels` has not. See
# Documentation/admin-guide/tt_alloc-bench.rst. Internal names are
# prefixed TT_BENCH_.

TT_BENCH_ROOT	:= $(abspath $(dir $(abspath $(lastword $(MAKEFILE_LIST))))/..)
OUT		?= $(TT_BENCH_ROOT)/out

.PHONY: bench bench-quick

bench:
	OUT=$(OUT) $(TT_BENCH_ROOT)/bench/run.sh

bench-quick:
	OUT=$(OUT) $(TT_BENCH_ROOT)/bench/run.sh --quick
