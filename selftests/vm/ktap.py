#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side TAP/KTAP aggregator and console checker of the tt_alloc tests.

  ktap.py scan-console LOG
      Exit 1 (report on stdout) if the console log shows a kernel problem:
      oops, BUG, WARNING, panic, KASAN, lockdep, UBSAN, kmemleak object,
      hung task, Call Trace (also inside the guest's kmemleak block).
  ktap.py parse --tag TAG --log LOG --out RESULTS [--runner-rc N]
                [--runner-log FILE] [--expect PROGRAM]...
                [--expect-kunit SUITE]... [--expect-kmemleak]
      Count the results of a VM run of selftests/guest/run-suite.sh. Every
      expected program (KUnit suite) that reported nothing is a failure
      named TAG/PROGRAM, with the reason (runner failed before booting,
      timeout, guest crash, binary missing in the guest, not run).
  ktap.py parse-tap --prefix NAME --rc N --out RESULTS FILE
      Count the results of one TAP program run on the host.
  ktap.py record RESULTS PASS|FAIL|SKIP NAME [DETAIL_FILE] [--kernel K]
      Add one result (a lint check, a harness self-test...).
  ktap.py missing RESULTS --kernel K --reason TEXT SUITE...
      Report each SUITE of kernel K as failed: it did not run (REASON).
  ktap.py time RESULTS KERNEL SUITE SECONDS
      Record how long a suite took (for the per-suite table).
  ktap.py summarize [--expected FILE] [--skips FILE] [--kernels FILE]
                    RESULTS...
      Print details of the failures, one line per suite (kernel, its exact
      release from FILE of --kernels, lines 'TAG RELEASE...', suite,
      passed, failed, skipped, seconds), the FAIL: lines, and the summary
      line 'N passed, N failed[, N skipped]' last; exit 1 if anything
      failed. FILE of --expected lists 'KERNEL SUITE' pairs that must have
      reported at least one result; --skips lists the skips allowed
      ('KERNELS PATTERN WHY', KERNELS 'stock' = every kernel but debug, or
      a comma-separated list); any other skip counts as a failure.

RESULTS files hold one JSON object per line: a result (status, name,
detail, kernel, suite) or a duration (type "time", kernel, suite, secs).
A parser that raises writes a FAIL result named TAG/parser (or
PREFIX/parser) and exits 3: its own errors are never lost.
"""
import fnmatch
import json
import re
import sys
import traceback

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
    """Return the lines (with context) of kernel problems. The guest's
    kmemleak block is scanned like any other part: its report lines carry
    no printk timestamp and so never match, while a kernel report printed
    during the scan (an oops, a KASAN splat) does."""
    hits = []
    for i, line in enumerate(lines):
        if BENIGN_RE.search(line):
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
    def __init__(self, kernel='host'):
        self.items = []
        self.kernel = kernel

    def add(self, status, name, detail='', suite=None):
        """NAME is KERNEL/SUITE/... for a VM result, SUITE/... on the host."""
        parts = name.split('/')
        if suite is None:
            if self.kernel != 'host' and len(parts) > 1 and parts[0] == self.kernel:
                parts = parts[1:]
            suite = parts[0]
            if suite == 'kunit' and len(parts) > 1:
                suite = 'kunit/' + parts[1]
        self.items.append({'status': status, 'name': name, 'detail': detail,
                           'kernel': self.kernel, 'suite': suite})

    def count(self, status):
        return sum(1 for r in self.items if r['status'] == status)

    def write(self, path):
        with open(path, 'a') as f:
            for r in self.items:
                f.write(json.dumps(r) + '\n')


def parse_tap(lines, prefix, rc, res, rc_ok=(0, 4), suite=None):
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
                res.add('FAIL', full, 'subtest block reported not ok although no subtest failed\n' + body, suite=suite)
            stack.append((ind, failed))
            continue
        if ok and skip:
            res.add('SKIP', full, directive, suite=suite)
        elif ok or directive.upper().startswith('TODO'):
            res.add('PASS', full, suite=suite)
        else:
            res.add('FAIL', full, body, suite=suite)
        stack.append((ind, not ok))
    if plans:
        pind, n, directive = min(plans, key=lambda p: p[0])
        if n == 0 and nres == 0:
            if rc in rc_ok:
                res.add('SKIP', prefix, directive or 'plan 1..0', suite=suite)
            else:
                res.add('FAIL', prefix, 'skipped everything but exited %s\n%s' % (rc, body), suite=suite)
            return
        got = top.get(pind, 0)
        if got < n:
            res.add('FAIL', prefix + '/plan', 'planned %d results, printed %d\n%s' % (n, got, body), suite=suite)
    if nres == 0:
        res.add('FAIL', prefix, 'printed no TAP result (rc=%s)\n%s' % (rc, body), suite=suite)
    elif rc not in rc_ok and res.count('FAIL') == nfail0:
        res.add('FAIL', prefix, 'exited with status %s although no test failed\n%s' % (rc, body), suite=suite)


def runner_reason(rc, lines, runner_log):
    """Why a VM run produced no result for a program it was expected to
    run, from the runner's exit status and the console."""
    tail = ''
    if runner_log:
        try:
            tail = '\n'.join(read_lines(runner_log)[-20:])
        except OSError:
            tail = '(runner log %s missing)' % runner_log
    booted = any('@@TT-VM-RC-' in l for l in lines)
    if rc == 2 and not booted:
        return 'not run: the VM runner failed before booting (exit 2)\n' + tail
    if rc == 124:
        return 'not run: the VM run timed out (exit 124)\n' + tail
    if not booted:
        return 'not run: the guest crashed or never reported completion (runner exit %s)\n%s' % (rc, tail)
    return 'not run: the guest finished without running it (runner exit %s)' % rc


KERNEL_LINE_RE = re.compile(r'\[ *\d+\.\d+\] ')


def join_split_markers(lines, complete):
    """The serial console interleaves the kernel's lines with the guest's
    output character by character: a kernel line printed while the shell
    writes a marker cuts it in two ("# tt-suite-begin[  112.3] tt_alloc:
    ...", then ": NAME" on the next line). A marker line that a kernel
    line interrupts and that is not complete (complete(prefix) is false)
    is joined with the guest's text after the kernel's lines."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        m = KERNEL_LINE_RE.search(line, 1)
        if not (m and line.startswith('# tt-suite-') and not complete(line[:m.start()])):
            out.append(line)
            i += 1
            continue
        j = i + 1
        while j < len(lines) and KERNEL_LINE_RE.match(lines[j]):
            j += 1
        if j == len(lines):
            out.append(line)
            break
        out.append(line[:m.start()] + lines[j])
        i = j + 1
    return out


def parse_run(args):
    tag = args.tag
    res = Results(tag)
    try:
        lines = read_lines(args.log)
    except FileNotFoundError:
        lines = []  # the runner failed before it wrote a console log
    # A program name is [\w./+-]+: the serial console may glue a kernel
    # message right after a marker ("# tt-suite-begin: x[   15.07] ...").
    name = r'([\w./+-]+)'
    begin_re = re.compile(r'^# tt-suite-begin: ' + name)
    end_re = re.compile(r'^# tt-suite-end: ' + name + r' rc=(\d+)(?: secs=(\d+))?')
    note_re = re.compile(r'^# tt-suite-(modprobe|rmmod): ' + name + r' FAILED(.*)$')
    missing_re = re.compile(r'^# tt-suite-missing: ' + name)
    expected = list(args.expect or []) + ['kunit/' + k for k in (args.expect_kunit or [])]

    def complete(prefix):
        m = begin_re.fullmatch(prefix) or missing_re.fullmatch(prefix)
        if m:
            return not expected or m.group(1) in expected
        return bool(end_re.fullmatch(prefix) or note_re.fullmatch(prefix))

    suites = []
    missing = set()
    times = {}
    cur, block = None, []
    for line in join_split_markers(lines, complete):
        m = begin_re.match(line)
        if m:
            if cur:
                suites.append((cur, None, block))
            cur, block = m.group(1), []
            continue
        m = end_re.match(line)
        if m and cur == m.group(1):
            suites.append((cur, int(m.group(2)), block))
            if m.group(3) is not None:
                times[cur] = int(m.group(3))
            cur, block = None, []
            continue
        m = missing_re.match(line)
        if m:
            missing.add(m.group(1))
            continue
        m = note_re.match(line)
        if m:
            res.add('FAIL', '%s/%s/%s' % (tag, m.group(2), m.group(1)),
                    '%s of tt_alloc failed around %s%s' % (m.group(1), m.group(2), m.group(3)),
                    suite=m.group(2))
            continue
        if cur:
            block.append(line)
    if cur:
        suites.append((cur, None, block))

    for name, rc, block in suites:
        prefix = '%s/%s' % (tag, name)
        if rc is None:
            res.add('FAIL', prefix, 'no end marker: the program hung, or crashed the VM\n' + '\n'.join(block[-200:]),
                    suite=name)
            continue
        parse_tap(block, prefix, rc, res, suite=name)

    seen = set(s[0] for s in suites)
    rc = args.runner_rc
    for name in expected:
        if name in seen:
            continue
        if name in missing:
            why = 'the test binary is missing in the guest'
        else:
            why = runner_reason(rc, lines, args.runner_log)
        res.add('FAIL', '%s/%s' % (tag, name), why, suite=name)
    if not suites and not expected:
        res.add('FAIL', '%s/suite' % tag, 'ran no test\n' + runner_reason(rc, lines, args.runner_log), suite='suite')

    tail = '\n'.join(lines[-80:])
    if rc == 124:
        res.add('FAIL', '%s/vm/timeout' % tag, 'the VM run timed out\n' + tail)
    elif lines and (rc == 125 or not any('@@TT-VM-RC-' in l for l in lines)):
        res.add('FAIL', '%s/vm/boot' % tag, 'the guest never reported completion (crash, panic or boot failure)\n' + tail)
    if lines:
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
    elif args.expect_kmemleak and lines:
        res.add('FAIL', '%s/vm/kmemleak' % tag, 'no kmemleak report from the guest')
    res.write(args.out)
    write_times(args.out, tag, times)
    print('%s: %d passed, %d failed, %d skipped' % (tag, res.count('PASS'), res.count('FAIL'), res.count('SKIP')))
    return 0


def write_times(path, kernel, times):
    with open(path, 'a') as f:
        for suite, secs in sorted(times.items()):
            f.write(json.dumps({'type': 'time', 'kernel': kernel, 'suite': suite, 'secs': secs}) + '\n')


def load_skips(path):
    """Lines 'KERNELS PATTERN WHY...'; '#' starts a comment."""
    rules = []
    for line in read_lines(path):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        f = line.split(None, 2)
        if len(f) < 3:
            raise ValueError('%s: bad line (want KERNELS PATTERN WHY): %r' % (path, line))
        rules.append((f[0], f[1], f[2]))
    return rules


def skip_allowed(rules, r):
    kernel = r.get('kernel', 'host')
    name = r['name']
    if kernel != 'host' and name.startswith(kernel + '/'):
        name = name[len(kernel) + 1:]
    for kernels, pattern, _ in rules:
        if kernels == 'stock':
            kok = kernel not in ('debug', 'host')
        else:
            kok = kernel in kernels.split(',')
        if kok and fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def summarize(args):
    items, times = [], {}
    for p in args.results:
        try:
            for line in read_lines(p):
                if not line.strip():
                    continue
                r = json.loads(line)
                if r.get('type') == 'time':
                    k = (r['kernel'], r['suite'])
                    times[k] = times.get(k, 0) + int(r['secs'])
                else:
                    r.setdefault('kernel', 'host')
                    r.setdefault('suite', r['name'].split('/')[0])
                    items.append(r)
        except FileNotFoundError:
            items.append({'status': 'FAIL', 'name': p, 'kernel': 'host', 'suite': p,
                          'detail': 'results file missing: stage did not run'})
    if args.skips:
        rules = load_skips(args.skips)
        for r in items:
            if r['status'] == 'SKIP' and not skip_allowed(rules, r):
                r['status'] = 'FAIL'
                r['detail'] = 'unlisted skip (%s): only skips listed in %s are allowed\n%s' % (
                    r['name'], args.skips, r.get('detail') or '')
                r['name'] += ' (unlisted skip)'
    if args.expected:
        have = set((r['kernel'], r['suite']) for r in items)
        for line in read_lines(args.expected):
            f = line.split()
            if len(f) == 2 and (f[0], f[1]) not in have:
                name = f[1] if f[0] == 'host' else '%s/%s' % (f[0], f[1])
                items.append({'status': 'FAIL', 'name': name, 'kernel': f[0], 'suite': f[1],
                              'detail': 'expected results from %s, none reported' % name})
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
    suites = {}
    for r in items:
        k = (r['kernel'], r['suite'])
        c = suites.setdefault(k, {'PASS': 0, 'FAIL': 0, 'SKIP': 0})
        c[r['status']] += 1
    releases = {}
    if args.kernels:
        for line in read_lines(args.kernels):
            f = line.split(None, 1)
            if len(f) == 2:
                releases[f[0]] = f[1]
    print()
    fmt = '%-8s %-48s %-22s %6s %6s %7s %7s'
    print(fmt % ('kernel', 'release', 'suite', 'passed', 'failed', 'skipped', 'seconds'))
    for k in sorted(suites):
        c = suites[k]
        secs = times.get(k)
        print(fmt % (k[0], releases.get(k[0], '-'), k[1], c['PASS'], c['FAIL'], c['SKIP'],
                     '-' if secs is None else secs))
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


def crash_record(out, name, kernel):
    """The parser itself failed: make that a named failure."""
    detail = 'the results parser raised:\n' + traceback.format_exc()
    sys.stderr.write(detail)
    if out:
        res = Results(kernel)
        res.add('FAIL', name, detail, suite='parser')
        res.write(out)


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
    p.add_argument('--runner-log')
    p.add_argument('--expect', action='append')
    p.add_argument('--expect-kunit', action='append')
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
    p.add_argument('--kernel', default='host')
    p = sub.add_parser('missing')
    p.add_argument('out')
    p.add_argument('--kernel', required=True)
    p.add_argument('--reason', required=True)
    p.add_argument('suites', nargs='+')
    p = sub.add_parser('time')
    p.add_argument('out')
    p.add_argument('kernel')
    p.add_argument('suite')
    p.add_argument('secs', type=int)
    p = sub.add_parser('summarize')
    p.add_argument('--expected')
    p.add_argument('--skips')
    p.add_argument('--kernels')
    p.add_argument('results', nargs='+')
    a = ap.parse_args(argv)
    if a.cmd == 'scan-console':
        report = scan_console(read_lines(a.log))
        if report:
            print(report)
            return 1
        return 0
    if a.cmd == 'parse':
        try:
            return parse_run(a)
        except Exception:
            crash_record(a.out, '%s/parser' % a.tag, a.tag)
            return 3
    if a.cmd == 'parse-tap':
        try:
            res = Results()
            parse_tap(read_lines(a.file), a.prefix, a.rc, res, suite=a.prefix)
            res.write(a.out)
        except Exception:
            crash_record(a.out, '%s/parser' % a.prefix, 'host')
            return 3
        print('%s: %d passed, %d failed, %d skipped' % (a.prefix, res.count('PASS'), res.count('FAIL'), res.count('SKIP')))
        return 1 if res.count('FAIL') else 0
    if a.cmd == 'record':
        res = Results(a.kernel)
        detail = ''
        if a.detail_file:
            detail = '\n'.join(read_lines(a.detail_file)[-300:])
        res.add(a.status, a.name, detail)
        res.write(a.out)
        print('%s: %s' % (a.status, a.name))
        return 0
    if a.cmd == 'missing':
        res = Results(a.kernel)
        for suite in a.suites:
            name = suite if a.kernel == 'host' else '%s/%s' % (a.kernel, suite)
            res.add('FAIL', name, a.reason, suite=suite)
        res.write(a.out)
        return 0
    if a.cmd == 'time':
        write_times(a.out, a.kernel, {a.suite: a.secs})
        return 0
    if a.cmd == 'summarize':
        try:
            return summarize(a)
        except Exception:
            # the one line must still close the run, red
            traceback.print_exc(file=sys.stdout)
            print('FAIL: summarize (the results parser raised)')
            print('0 passed, 1 failed')
            return 1
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
