#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Merge the guest and host benchmark JSON, add the TCG slowdown factors
and native estimates, check the targets, print the table, write the data
files of bench/plot.gp.

  report.py --guest G.json --host H.json --out RESULTS.json [--load FILE]
            [--previous OLD.json] [--plot-dir DIR]

--load: the host's "load1 load5 load15" lines sampled during the run;
--previous: an earlier results.json, to say whether the target ratios of
the two runs agree within 10%.
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--guest', required=True)
    ap.add_argument('--host', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--plot-dir')
    ap.add_argument('--load')
    ap.add_argument('--previous')
    ap.add_argument('--rst', help='also write the targets as an RST table')
    a = ap.parse_args()
    with open(a.guest) as f:
        g = json.load(f)
    with open(a.host) as f:
        h = json.load(f)

    # TCG slowdown: the same user code and syscalls, guest vs host
    tcg = {
        'getppid': g['syscall']['getppid_ns'] / h['syscall']['getppid_ns'],
        'pipe_fionread': g['syscall']['pipe_fionread_ns'] / h['syscall']['pipe_fionread_ns'],
        'socket_ff': g['socket']['ff_ns_op'] / h['socket']['ff_ns_op'],
        'socket_ack': g['socket']['ack_ns_op'] / h['socket']['ack_ns_op'],
        'atomic_add': g['syscall']['atomic_add_ns'] / h['syscall']['atomic_add_ns'],
        'plain_add': g['syscall']['plain_add_ns'] / h['syscall']['plain_add_ns'],
    }
    # The host is itself a VM whose syscalls are slower than the guest's
    # (see the doc): only the user-mode compute factors are meaningful for
    # kernel-internal work such as reclaim; the smaller one is the
    # conservative (slowest native) estimate.
    lo = min(tcg['atomic_add'], tcg['plain_add'])
    res = {'guest': g, 'host': h, 'tcg_factor': tcg, 'tcg_factor_min': lo}
    rec = {r['n']: r for r in g.get('reclaim', [])}
    big = max(rec) if rec else None
    if big:
        res['native_estimate'] = {
            'n': big,
            'close_ms_conservative': rec[big]['close_ns'] / lo / 1e6,
            'close_ms_by_factor': {k: rec[big]['close_ns'] / v / 1e6 for k, v in tcg.items()},
            'kill_ms_conservative': rec[big]['kill_ns'] / lo / 1e6,
        }

    sc = {(s['mode'], s['threads']): s for s in g.get('scaling', [])}
    mem = g.get('memory', {})
    load = []
    if a.load:
        with open(a.load) as f:
            load = [float(l.split()[0]) for l in f if l.strip()]
    if load:
        res['host_load1'] = {'min': min(load), 'max': max(load),
                             'median': sorted(load)[len(load) // 2],
                             'samples': len(load)}

    def spread(d, k):
        """(median, min, max) of a figure written by jstat()"""
        return (d[k], d.get(k + '_min', d[k]), d.get(k + '_max', d[k]))

    # (number, target, (median, min, max), op, limit)
    targets = [
        ('1', 'ALLOC+FREE pair <= 1.5x two floor calls',
         spread(g, 'pair_ratio_2floor'), '<=', 1.5),
        ('2a', 'BATCH of 4096 <= 0.25x floor per op',
         spread(g, 'batch_mixed_ratio_floor'), '<=', 0.25),
        ('2b', 'BATCH op <= 1x a shared-memory record',
         spread(g, 'batch_vs_shm_record'), '<=', 1),
    ]
    sn = g.get('scaling_norm', {})
    if 'pairs_2proc' in sn:
        targets.append(('3', '2-process scaling / no-op control >= 0.9',
                        spread(sn, 'pairs_2proc'), '>=', 0.9))
    if mem:
        # the entry cache (Slab) plus the hash table (kvcalloc: vmalloc at
        # this size); MemFree moves with unrelated page-allocator caches
        res['memory_bytes_per_entry'] = (mem['slab_bytes_per_entry'] +
                                         max(mem['vmalloc_bytes_per_entry'], 0))
        v = res['memory_bytes_per_entry']
        targets.append(('4', 'kernel memory per entry at N=%d <= 64 B' % mem['n'],
                        (v, v, v), '<=', 64))
    for n in sorted(rec):
        r = rec[n]
        targets.append(('5a', 'reclaim N=%d per entry / FREE ioctl < 1x' % n,
                        spread(r, 'ratio_to_free'), '<', 1))
    if big and big >= 1000000:
        v = res['native_estimate']['close_ms_conservative']
        targets.append(('5b', '1M close() native estimate < 1000 ms',
                        (v, v, v), '<', 1000))
    for n in sorted(rec):
        targets.append(('5c', 'kill -9 N=%d: counters zero at waitpid' % n,
                        (1 if rec[n]['kill_zero_at_waitpid'] else 0,) * 3, '>=', 1))
    smi = g.get('smi', {})
    if 'json_ms' in smi:
        targets.append(('6', 'tt-alloc-smi --json, %d dev, %d clients < 20 ms'
                        % (smi['devices'], smi['clients']),
                        spread(smi, 'json_ms'), '<', 20))
    lat = g.get('latency', {})
    dur = {(d['what'], d['n']): d for d in lat.get('during', [])}
    ns = sorted({n for _, n in dur})
    for what in ('release', 'sweep'):
        if len(ns) >= 2 and (what, ns[0]) in dur and (what, ns[-1]) in dur:
            lo_, hi_ = dur[(what, ns[0])], dur[(what, ns[-1])]
            v = hi_['median_us'] / lo_['median_us']
            targets.append(('7', 'open+ALLOC+close during %s: N=%d / N=%d <= 1.5x'
                            % (what, ns[-1], ns[0]), (v, v, v), '<=', 1.5))
            if 'p99_us' in hi_ and 'p99_us' in lo_:
                v = hi_['p99_us'] / lo_['p99_us']
                targets.append(('7', 'open+ALLOC+close p99 during %s: N=%d / N=%d <= 1.5x'
                                % (what, ns[-1], ns[0]), (v, v, v), '<=', 1.5))
    ops = {'<=': lambda x, y: x <= y, '>=': lambda x, y: x >= y,
           '<': lambda x, y: x < y}
    res['targets'] = [{'id': i, 'target': t, 'value': v[0], 'min': v[1],
                       'max': v[2], 'met': ops[o](v[0], lim)}
                      for i, t, v, o, lim in targets]
    # target 8: do two consecutive runs agree within 10%?
    if a.previous:
        try:
            with open(a.previous) as f:
                old = {t['target']: t['value'] for t in json.load(f).get('targets', [])}
        except (OSError, ValueError):
            old = {}
        for t in res['targets']:
            if t['target'] in old and old[t['target']]:
                t['previous'] = old[t['target']]
                t['rel_diff'] = abs(t['value'] - old[t['target']]) / abs(old[t['target']])

    with open(a.out, 'w') as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write('\n')

    p = print
    p('')
    p('tt_alloc benchmarks: guest kernel %s (QEMU TCG, %d vCPUs online, %d in '
      '/proc/cpuinfo), %s mode, median of %d reps'
      % (g['kernel'], g['cpus_online'], g['cpuinfo_processors'], g['mode'], g['reps']))
    p('%-46s %14s %14s' % ('', 'guest', 'host (native)'))
    p('(scaling rows: the right column is the speedup over 1 process)')
    rows = [
        ('floor: INFO ioctl, ns/call', g['floor_ns'], None),
        ('getppid(), ns/call', g['syscall']['getppid_ns'], h['syscall']['getppid_ns']),
        ('ioctl(pipe, FIONREAD), ns/call', g['syscall']['pipe_fionread_ns'],
         h['syscall']['pipe_fionread_ns']),
        ('ALLOC+FREE single ioctls, ns/pair', g['pair_ns'], None),
        ('  / (2 x floor)', g['pair_ratio_2floor'], None),
        ('BATCH 2048 alloc + 2048 free, ns/op', g['batch_mixed_ns_op'], None),
        ('  / floor', g['batch_mixed_ratio_floor'], None),
        ('BATCH 4096 alloc; BATCH 4096 free, ns/op', g['batch_split_ns_op'], None),
        ('  / floor', g['batch_split_ratio_floor'], None),
        ('socket server fire-and-forget, ns/op', g['socket']['ff_ns_op'], h['socket']['ff_ns_op']),
        ('socket server acknowledged, ns/op', g['socket']['ack_ns_op'], h['socket']['ack_ns_op']),
        ('single-ioctl op / fire-and-forget op', g['ratio_single_op_vs_ff'], None),
        ('acked op / BATCH op', g['ratio_ack_vs_batch_op'], None),
        ('acked op / single-ioctl op', g['ratio_ack_vs_single_op'], None),
    ]
    for n in sorted(rec):
        r = rec[n]
        rows += [
            ('reclaim N=%d: close(), ms' % n, r['close_ns'] / 1e6, None),
            ('  ns/entry', r['ns_per_entry'], None),
            ('  FREE ioctl, ns', r['free_ioctl_ns'], None),
            ('  ns/entry / FREE', r['ratio_to_free'], None),
            ('  kill -9 -> waitpid, ms', r['kill_ns'] / 1e6, None),
        ]
        if 'child_exit_ns' in r:
            rows.append(('  kill -9 of a child with 1 entry on it, ms',
                         r['child_exit_ns'] / 1e6, None))
    if mem:
        rows += [
            ('memory at N=%d: MemFree delta, B/entry' % mem['n'], mem['memfree_bytes_per_entry'], None),
            ('  Slab delta, B/entry', mem['slab_bytes_per_entry'], None),
            ('  VmallocUsed delta, B/entry', mem['vmalloc_bytes_per_entry'], None),
        ]
    if mem:
        rows.append(('  Slab + vmalloc, B/entry', res['memory_bytes_per_entry'], None))
    for (m, t), s in sorted(sc.items()):
        rows.append(('scaling %s %d proc: kops/s (speedup)' % (m, t), s['ops_per_s'] / 1e3, s['speedup']))
    sw = g.get('sweep', {})
    for k in ('empty', 'shared_fd', 'own_fd'):
        if k in sw and sw[k].get('samples'):
            rows.append(('sweep %s (%d recorders), us' % (k, 0 if k == 'empty' else sw['recorders']),
                         sw[k]['median_us'], None))
    for k in ('shared_ns_per_recorder', 'own_ns_per_client'):
        if k in sw:
            rows.append(('sweep ' + k, sw[k], None))
    if 'shm' in g:
        rows += [('shared-memory record, ns', g['shm']['record_ns'], h['shm']['record_ns']),
                 ('  without last-update time, ns', g['shm']['record_nostamp_ns'],
                  h['shm']['record_nostamp_ns'])]
    if 'batch_vs_shm_record' in g:
        rows.append(('BATCH op / shared-memory record', g['batch_vs_shm_record'], None))
    for k in ('pairs_2proc', 'batch_2proc'):
        if k in sn:
            rows.append(('scaling %s / control' % k, sn[k], None))
    # natively: the same binary on a fake sysfs tree (see section_smi_native)
    hsmi = h.get('smi', {})
    if 'json_ms' in smi:
        rows += [('tt-alloc-smi --json, ms', smi['json_ms'], hsmi.get('json_ms')),
                 ('  with no clients, ms', smi['json_empty_ms'], None)]
    if 'exec_true_ms' in smi:
        rows += [('  fork+exec of /bin/true (static), ms', smi['exec_true_ms'], None)]
        if 'exec_version_ms' in smi:
            rows.append(('  tt-alloc-smi --version, ms', smi['exec_version_ms'],
                         hsmi.get('exec_version_ms')))
        rows += [('  reading %d sysfs files, ms' % smi['sysfs_files'], smi['sysfs_ms'], None),
                 ('  CLIENTS (%d rows) + USAGE ioctls, ms' % smi['client_rows'],
                  smi['ioctls_ms'], None)]
    if 'idle' in lat:
        rows.append(('open+ALLOC+close, idle, us (median)', lat['idle']['median_us'], None))
    if 'cpu_hog' in lat:
        rows += [('  beside a CPU hog, us (median)', lat['cpu_hog']['median_us'], None),
                 ('  beside a CPU hog, us (99th pct)', lat['cpu_hog']['p99_us'], None)]
    for (what, n), d in sorted(dur.items()):
        rows.append(('  during %s N=%d, us (median)' % (what, n), d['median_us'], None))
        if 'p99_us' in d:
            rows.append(('  during %s N=%d, us (99th pct)' % (what, n), d['p99_us'], None))
        rows.append(('  during %s N=%d, us (max)' % (what, n), d['max_us'], None))
    for k, v in tcg.items():
        rows.append(('TCG slowdown (%s)' % k, v, None))
    if big:
        rows.append(('native estimate N=%d close(), ms (/ compute factor)' % big,
                     res['native_estimate']['close_ms_conservative'], None))
    for name, gv, hv in rows:
        p('%-46s %14.2f %14s' % (name, gv, '' if hv is None else '%.2f' % hv))
    p('')
    if g['mode'] != 'full':
        p('(%s mode: small N, few repetitions; the figures prove the code paths'
          ' work and mean nothing; no targets checked)' % g['mode'])
    else:
        p('targets:')
    for t in res['targets'] if g['mode'] == 'full' else []:
        agree = ''
        if 'rel_diff' in t:
            agree = '  prev %.3g (%+.0f%%)' % (t['previous'], 100 * (t['value'] - t['previous']) /
                                             abs(t['previous']))
        p('  %-3s %-4s %-52s %9.3f [%.3g..%.3g]%s'
          % (t['id'], 'MET' if t['met'] else 'MISS', t['target'], t['value'],
             t['min'], t['max'], agree))
    if 'host_load1' in res:
        hl = res['host_load1']
        p('  8   host load average (1 min) during the run: %.2f..%.2f, median %.2f (%d samples)'
          % (hl['min'], hl['max'], hl['median'], hl['samples']))
    if any('rel_diff' in t for t in res['targets']):
        bad = [t['id'] for t in res['targets'] if t.get('rel_diff', 0) > 0.10]
        p('  8   against the previous results.json: %s'
          % ('every target ratio within 10%' if not bad else
             'differ by more than 10%: ' + ', '.join(sorted(set(bad)))))

    if a.rst:
        w = [6, 64, 10, 16, 6]
        line = '  '.join('=' * n for n in w)
        with open(a.rst, 'w') as f:
            f.write(line + '\n')
            f.write('  '.join(h.ljust(n) for h, n in zip(
                ('target', 'figure', 'measured', 'min..max', 'met?'), w)).rstrip() + '\n')
            f.write(line + '\n')
            for t in res['targets']:
                cells = (t['id'], t['target'].replace('*', '\\*'), '%.3g' % t['value'],
                         '%.3g..%.3g' % (t['min'], t['max']), 'yes' if t['met'] else '**no**')
                f.write('  '.join(c.ljust(n) for c, n in zip(cells, w)).rstrip() + '\n')
            f.write(line + '\n')

    if a.plot_dir:
        with open(a.plot_dir + '/scaling.dat', 'w') as f:
            for m in ('info_separate', 'pairs_separate', 'batch_separate', 'pairs_shared'):
                f.write('# %s\n' % m)
                for t in (1, 2, 4):
                    if (m, t) in sc:
                        f.write('%d %g %g\n' % (t, sc[(m, t)]['speedup'], sc[(m, t)]['ops_per_s']))
                f.write('\n\n')
        with open(a.plot_dir + '/reclaim.dat', 'w') as f:
            for n in sorted(rec):
                r = rec[n]
                f.write('%d %g %g %g\n' % (n, r['ns_per_entry'], r['free_ioctl_ns'],
                                           r['kill_ns_per_entry']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
