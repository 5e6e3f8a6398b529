#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side TAP/KTAP aggregator and console checker of the tt_alloc tests.

  ktap.py scan-console LOG
      Exit 1 (report on stdout) if the console log shows a kernel problem:
      oops, BUG, WARNING, panic, KASAN, lockdep, UBSAN, kmemleak object
      outside the kmemleak block, hung task, Call Trace.
  ktap.py parse --tag TAG --log LOG --out RESULTS [--runner-rc N]
                [--expect-kunit] [--expect-kmemleak]
      Count the results of a VM run of selftests/guest/run-suite.sh.
  ktap.py parse-tap --prefix NAME --rc N --out RESULTS FILE
      Count the results of one TAP program run on the host.
  ktap.py record RESULTS PASS|FAIL|SKIP NAME [DETAIL_FILE]
      Add one result (a lint check, a harness self-test...).
  ktap.py summarize RESULTS...
      Print details of the failures, the FAIL: lines, and the summary line
      'N passed, N failed[, N skipped]' last; exit 1 if anything failed.

RESULTS files hold one JSON object per line: status, name, detail.
"""
import json
import re
import sys

TS = r'\[\s*\d+\.\d+\]'
# Kernel problems; matched only on kernel log lines (printk timestamp).
PROBLEMS = [
    r'BUG:', r'WARNING:', r'Kernel panic', r'Oops', r'general protection fault',
    r'kernel BUG at', r'Unable to handle', r'KASAN', r'UBSAN',
    r'possible recursive locking', r'possible circular locking',
    r'inconsistent lock state', r'INFO: trying to register non-static key',
    r'DEBUG_LOCKS_WARN_ON', r'unreferenced object',
    r'INFO: task .* blocked', r'Call Trace:', r'RCU stall', r'rcu_sched detected stall',
    r'soft lockup', r'hard LOCKUP',
]
PROBLEM_RE = re.compile(TS + r'.*(' + '|'.join(PROBLEMS) + ')')
# Kernel lines that are expected and harmless.
BENIGN_RE = re.compile(r'module verification failed|loading out-of-tree module taints|'
                       r'lockdep: Disabling lockdep|Lock dependency validator|'
                       r'KASAN: KernelAddressSanitizer initialized|KASAN init|'
                       r'kmemleak: Kernel memory leak detector|kmemleak: Automatic memory scanning')
RESULT_RE = re.compile(r'^(\s*)(not ok|ok)\s+(\d+)\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$')
PLAN_RE = re.compile(r'^(\s*)1\.\.(\d+)\s*(?:#\s*(.*))?$')
SUBTEST_RE = re.compile(r'^(\s*)#\s*Subtest:\s*(\S.*?)\s*$')
KLOG_RE = re.compile(r'^\s*' + TS)


def read_lines(path):
    with open(path, 'r', errors='replace') as f:
        return [l.rstrip('\r\n') for l in f]


def scan_console(lines):
    """Return the lines (with context) of kernel problems, outside the
    kmemleak report block printed by the guest init."""
    hits = []
    in_kml = False
    for i, line in enumerate(lines):
        if line.startswith('# tt-vm-kmemleak-begin'):
            in_kml = True
            continue
        if line.startswith('# tt-vm-kmemleak-end'):
            in_kml = False
            continue
        if in_kml or BENIGN_RE.search(line):
            continue
        if PROBLEM_RE.search(line):
            hits.append(i)
    if not hits:
        return None
    out, shown = [], -1
    for i in hits:
        if i <= shown:
            continue
        lo, hi = max(i - 3, shown + 1), min(i + 60, len(lines) - 1)
        out.append('---- console lines %d-%d ----' % (lo + 1, hi + 1))
        out.extend(lines[lo:hi + 1])
        shown = hi
        if len(out) > 400:
            out.append('---- (more problems not shown) ----')
            break
    return '\n'.join(out)


class Results:
    def __init__(self):
        self.items = []

    def add(self, status, name, detail=''):
        self.items.append({'status': status, 'name': name, 'detail': detail})

    def count(self, status):
        return sum(1 for r in self.items if r['status'] == status)

    def write(self, path):
        with open(path, 'a') as f:
            for r in self.items:
                f.write(json.dumps(r) + '\n')


def parse_tap(lines, prefix, rc, res, rc_ok=(0, 4)):
    """Count the leaf results of (nested) TAP/KTAP output of one program.
    A result that closes a subtest block is not counted on its own, except
    as a failure when it is 'not ok' while none of its children failed."""
    body = '\n'.join(lines)
    lines = [l for l in lines if not KLOG_RE.match(l)]
    stack = []  # (indent, failed) of results seen, children pop into parents
    names = {}  # indent -> name of the open '# Subtest:' at that indent
    plans = []  # (indent, n, directive)
    top = {}    # indent -> number of results
    nfail0 = res.count('FAIL')
    nres = 0
    for line in lines:
        line = line.replace('\t', '    ')
        m = SUBTEST_RE.match(line)
        if m:
            names[len(m.group(1))] = m.group(2)
            continue
        m = PLAN_RE.match(line)
        if m:
            plans.append((len(m.group(1)), int(m.group(2)), m.group(3) or ''))
            continue
        m = RESULT_RE.match(line)
        if not m:
            continue
        ind, ok, name, directive = len(m.group(1)), m.group(2) == 'ok', m.group(4), (m.group(5) or '')
        name = name or ('test%s' % m.group(3))
        nres += 1
        top[ind] = top.get(ind, 0) + 1
        children = []
        while stack and stack[-1][0] > ind:
            children.append(stack.pop())
        for k in [k for k in names if k > ind]:
            del names[k]
        path = [names[k] for k in sorted(names) if k <= ind and not (k == ind and names[k] == name)]
        if path and path[0] == prefix.rsplit('/', 1)[-1]:
            path = path[1:]
        full = '/'.join([prefix] + path + [name])
        skip = directive.upper().startswith('SKIP')
        if children:
            failed = not ok or any(c[1] for c in children)
            if not ok and not any(c[1] for c in children):
                res.add('FAIL', full, 'subtest block reported not ok although no subtest failed\n' + body)
            stack.append((ind, failed))
            continue
        if ok and skip:
            res.add('SKIP', full, directive)
        elif ok or directive.upper().startswith('TODO'):
            res.add('PASS', full)
        else:
            res.add('FAIL', full, body)
        stack.append((ind, not ok))
    if plans:
        pind, n, directive = min(plans, key=lambda p: p[0])
        if n == 0 and nres == 0:
            if rc in rc_ok:
                res.add('SKIP', prefix, directive or 'plan 1..0')
            else:
                res.add('FAIL', prefix, 'skipped everything but exited %s\n%s' % (rc, body))
            return
        got = top.get(pind, 0)
        if got < n:
            res.add('FAIL', prefix + '/plan', 'planned %d results, printed %d\n%s' % (n, got, body))
    if nres == 0:
        res.add('FAIL', prefix, 'printed no TAP result (rc=%s)\n%s' % (rc, body))
    elif rc not in rc_ok and res.count('FAIL') == nfail0:
        res.add('FAIL', prefix, 'exited with status %s although no test failed\n%s' % (rc, body))


def parse_run(args):
    res = Results()
    lines = read_lines(args.log)
    tag = args.tag
    begin_re = re.compile(r'^# tt-suite-begin: (\S+)')
    end_re = re.compile(r'^# tt-suite-end: (\S+) rc=(\d+)')
    note_re = re.compile(r'^# tt-suite-(modprobe|rmmod): (\S+) FAILED(.*)$')
    suites = []
    cur, block = None, []
    for line in lines:
        m = begin_re.match(line)
        if m:
            if cur:
                suites.append((cur, None, block))
            cur, block = m.group(1), []
            continue
        m = end_re.match(line)
        if m and cur == m.group(1):
            suites.append((cur, int(m.group(2)), block))
            cur, block = None, []
            continue
        m = note_re.match(line)
        if m:
            res.add('FAIL', '%s/%s/%s' % (tag, m.group(2), m.group(1)),
                    '%s of tt_alloc failed around %s%s' % (m.group(1), m.group(2), m.group(3)))
            continue
        if cur:
            block.append(line)
    if cur:
        suites.append((cur, None, block))

    kunit = [s for s in suites if s[0].startswith('kunit/')]
    for name, rc, block in suites:
        prefix = '%s/%s' % (tag, name)
        if rc is None:
            res.add('FAIL', prefix, 'no end marker: the program hung, or crashed the VM\n' + '\n'.join(block[-200:]))
            continue
        parse_tap(block, prefix, rc, res)
    if args.expect_kunit and not kunit:
        res.add('FAIL', '%s/kunit' % tag, 'no KUnit suite named tt_alloc* ran')
    if not suites:
        res.add('FAIL', '%s/suite' % tag, 'ran no test')

    rc = args.runner_rc
    tail = '\n'.join(lines[-80:])
    if rc == 124:
        res.add('FAIL', '%s/vm/timeout' % tag, 'the VM run timed out\n' + tail)
    elif rc == 125 or not any('@@TT-VM-RC-' in l for l in lines):
        res.add('FAIL', '%s/vm/boot' % tag, 'the guest never reported completion (crash, panic or boot failure)\n' + tail)
    report = scan_console(lines)
    res.add('FAIL' if report else 'PASS', '%s/vm/console-clean' % tag, report or '')
    leak_re = re.compile(r'^# tt-vm-kmemleak-end count=(\d+)')
    leaks = [int(m.group(1)) for m in map(leak_re.match, lines) if m]
    if leaks:
        detail = ''
        if leaks[-1]:
            i = max(i for i, l in enumerate(lines) if l.startswith('# tt-vm-kmemleak-begin'))
            detail = '\n'.join(lines[i:i + 300])
        res.add('FAIL' if leaks[-1] else 'PASS', '%s/vm/kmemleak' % tag, detail)
    elif args.expect_kmemleak:
        res.add('FAIL', '%s/vm/kmemleak' % tag, 'no kmemleak report from the guest')
    res.write(args.out)
    print('%s: %d passed, %d failed, %d skipped' % (tag, res.count('PASS'), res.count('FAIL'), res.count('SKIP')))
    return 0


def summarize(paths):
    items = []
    for p in paths:
        try:
            for line in read_lines(p):
                if line.strip():
                    items.append(json.loads(line))
        except FileNotFoundError:
            items.append({'status': 'FAIL', 'name': p, 'detail': 'results file missing: stage did not run'})
    fails = [r for r in items if r['status'] == 'FAIL']
    shown = set()
    for r in fails:
        d = r.get('detail') or ''
        if not d or d in shown:
            continue
        shown.add(d)
        dl = d.split('\n')
        if len(dl) > 150:
            dl = dl[:20] + ['... (%d lines cut) ...' % (len(dl) - 140)] + dl[-120:]
        print('==== details: %s ====' % r['name'])
        print('\n'.join(dl))
    if fails:
        print()
    for r in fails:
        print('FAIL: %s' % r['name'])
    npass = sum(1 for r in items if r['status'] == 'PASS')
    nskip = sum(1 for r in items if r['status'] == 'SKIP')
    line = '%d passed, %d failed' % (npass, len(fails))
    if nskip:
        line += ', %d skipped' % nskip
    print(line)
    return 1 if fails or not items else 0


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('scan-console')
    p.add_argument('log')
    p = sub.add_parser('parse')
    p.add_argument('--tag', required=True)
    p.add_argument('--log', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--runner-rc', type=int, default=0)
    p.add_argument('--expect-kunit', action='store_true')
    p.add_argument('--expect-kmemleak', action='store_true')
    p = sub.add_parser('parse-tap')
    p.add_argument('--prefix', required=True)
    p.add_argument('--rc', type=int, default=0)
    p.add_argument('--out', required=True)
    p.add_argument('file')
    p = sub.add_parser('record')
    p.add_argument('out')
    p.add_argument('status', choices=['PASS', 'FAIL', 'SKIP'])
    p.add_argument('name')
    p.add_argument('detail_file', nargs='?')
    p = sub.add_parser('summarize')
    p.add_argument('results', nargs='+')
    a = ap.parse_args(argv)
    if a.cmd == 'scan-console':
        report = scan_console(read_lines(a.log))
        if report:
            print(report)
            return 1
        return 0
    if a.cmd == 'parse':
        return parse_run(a)
    if a.cmd == 'parse-tap':
        res = Results()
        parse_tap(read_lines(a.file), a.prefix, a.rc, res)
        res.write(a.out)
        print('%s: %d passed, %d failed, %d skipped' % (a.prefix, res.count('PASS'), res.count('FAIL'), res.count('SKIP')))
        return 1 if res.count('FAIL') else 0
    if a.cmd == 'record':
        res = Results()
        detail = ''
        if a.detail_file:
            detail = '\n'.join(read_lines(a.detail_file)[-300:])
        res.add(a.status, a.name, detail)
        res.write(a.out)
        print('%s: %s' % (a.status, a.name))
        return 0
    if a.cmd == 'summarize':
        return summarize(a.results)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
