# SPDX-License-Identifier: GPL-2.0
# Plots of bench/run.sh: gnuplot -e "dir='out/bench'; outdir='bench'" bench/plot.gp
# Data: DIR/scaling.dat, DIR/reclaim.dat (written by bench/report.py).
set terminal pngcairo size 800,500 noenhanced
set output outdir.'/scaling.png'
set title 'tt_alloc scaling in the guest (2 vCPUs, QEMU TCG): speedup over 1 process'
set xlabel 'processes'
set ylabel 'speedup'
set xtics (1, 2, 4)
set key top left
set grid
plot [0.8:4.2][0:3] \
	dir.'/scaling.dat' index 0 using 1:2 with linespoints lw 2 title 'INFO ioctl, separate fds (control)', \
	'' index 1 using 1:2 with linespoints lw 2 title 'ALLOC+FREE, separate fds', \
	'' index 2 using 1:2 with linespoints lw 2 title 'BATCH, separate fds', \
	'' index 3 using 1:2 with linespoints lw 2 title 'ALLOC+FREE, one shared fd', \
	(x < 2 ? x : 2) with lines dt 2 lc rgb 'gray' title 'ideal on 2 vCPUs'

set output outdir.'/reclaim.png'
set title 'tt_alloc reclaim in the guest: ns per entry'
set xlabel 'entries held by the file (N)'
set ylabel 'ns per entry'
set logscale x
set xrange [500:2e6]
set xtics auto
set format x '%.0e'
set autoscale
set yrange [0:*]
plot dir.'/reclaim.dat' using 1:2 with linespoints lw 2 title 'release() on close()', \
	'' using 1:4 with linespoints lw 2 title 'kill -9 -> waitpid', \
	'' using 1:3 with linespoints lw 2 title 'one FREE ioctl'
