#!/usr/bin/env python3
"""Runs a uniform random sample of a Stryker run's mutants against a project's tests, one test process per mutant.

Why: Stryker 5.1.0's MTP runner switches mutants through a memory-mapped file the mutated assembly reads at every
mutation point, in an assembly compiled without JIT optimization; the verifier's tests run 13-20x slower that way than
the timeout Stryker sets from the unmutated run, so every verifier mutant "times out" (docs/testing.md). This script
keeps Stryker's mutants and mutated assembly, rewritten by FastSwitch (this folder) so that the active mutant is read
once per process from BPFNET_ACTIVE_MUTANT and the assembly is optimized: the verifier's tests then run about as fast
as unmutated (1,129 tests: 10.6 s).

Inputs: a Stryker JSON report of the same sources (for every mutant's id, file, location, mutator and whether it
compiled: a run with a one-test filter gives it in minutes), the test application's directory holding the rewritten
mutated assembly (inside the clone: the tests find their data relative to the repository).

Each mutant: `<test app> --filter F --stop-on-fail on` with the mutant active. Exit 0 = survived, exit 2 = killed
(a test failed), no exit within --timeout = timeout, anything else = error (recorded with its output's tail).
With --confirm-all, a mutant that survives the filter runs again against every test of the project (a fast filter
first, the whole project only for what it leaves). Order: a seeded shuffle, so whatever prefix finishes before
--deadline is itself a uniform random sample.

usage: run-sample.py REPORT.json TESTAPP_DIR TESTAPP_NAME FILTER OUT.jsonl [--workers 2] [--timeout 240] [--seed N]
       [--deadline HH:MM (UTC)] [--limit N] [--confirm-all] [--confirm-timeout 400]
       run-sample.py --tally OUT.jsonl
"""
import json, os, random, subprocess, sys, threading, time, datetime, math, argparse

def tally(path):
    rows = [json.loads(l) for l in open(path)]
    by = {}
    for r in rows:
        by[r['status']] = by.get(r['status'], 0) + 1
    n = len(rows)
    detected = by.get('killed', 0) + by.get('timeout', 0)
    counted = n - by.get('error', 0)
    p = detected / counted if counted else 0
    half = 1.96 * math.sqrt(p * (1 - p) / counted) if counted else 0
    killed_only = by.get('killed', 0) / counted if counted else 0
    print(f"{n} mutants run: {by}")
    print(f"score (killed+timeout)/(all but errors) = {detected}/{counted} = {100*p:.1f}% "
          f"(95% interval ±{100*half:.1f}); killed only {100*killed_only:.1f}%")
    per = {}
    for r in rows:
        f = r['file'].split('/')[-1]
        s = per.setdefault(f, [0, 0])
        s[1] += 1
        if r['status'] in ('killed', 'timeout'):
            s[0] += 1
    for f, (d, t) in sorted(per.items()):
        print(f"  {f}: {d}/{t}")
    for r in rows:
        if r['status'] in ('survived', 'error'):
            print(f"  {r['status']}: {r['file'].split('/')[-1]}:{r['line']} {r['mutator']} -> {r['replacement'][:100]!r}")

def main():
    if sys.argv[1] == '--tally':
        tally(sys.argv[2])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument('report'); ap.add_argument('appdir'); ap.add_argument('app'); ap.add_argument('filter'); ap.add_argument('out')
    ap.add_argument('--workers', type=int, default=2); ap.add_argument('--timeout', type=int, default=240)
    ap.add_argument('--seed', type=int, default=20261204); ap.add_argument('--deadline'); ap.add_argument('--limit', type=int)
    ap.add_argument('--confirm-all', action='store_true'); ap.add_argument('--confirm-timeout', type=int, default=400)
    a = ap.parse_args()
    report = json.load(open(a.report))
    mutants = []
    for f, v in report['files'].items():
        for m in v['mutants']:
            if m['status'] in ('CompileError', 'Ignored'):
                continue
            mutants.append({'id': int(m['id']), 'file': f, 'line': m['location']['start']['line'],
                            'mutator': m['mutatorName'], 'replacement': m.get('replacement', '')})
    mutants.sort(key=lambda m: m['id'])
    random.Random(a.seed).shuffle(mutants)
    done = set()
    if os.path.exists(a.out):
        done = {json.loads(l)['id'] for l in open(a.out)}
    queue = [m for m in mutants if m['id'] not in done]
    if a.limit:
        queue = queue[:max(0, a.limit - len(done))]
    print(f"{len(mutants)} testable mutants; {len(done)} done before; {len(queue)} queued", flush=True)
    deadline = None
    if a.deadline:
        h, mi = map(int, a.deadline.split(':'))
        now = datetime.datetime.now(datetime.timezone.utc)
        deadline = now.replace(hour=h, minute=mi, second=0, microsecond=0)
        if deadline < now:
            deadline += datetime.timedelta(days=1)
    lock = threading.Lock()
    it = iter(queue)
    env0 = {k: v for k, v in os.environ.items() if not k.startswith('STRYKER_')}
    env0['BPFNET_MUTATION'] = '1'
    env0['STRYKER_MUTANT_ID_CONTROL_VAR'] = 'BPFNET_ACTIVE_MUTANT'

    def worker():
        while True:
            with lock:
                if deadline and datetime.datetime.now(datetime.timezone.utc) >= deadline:
                    return
                m = next(it, None)
            if m is None:
                return
            env = dict(env0, BPFNET_ACTIVE_MUTANT=str(m['id']))
            started = time.time()

            def run(filter_args, timeout):
                try:
                    p = subprocess.run([os.path.join(a.appdir, a.app)] + filter_args + ['--stop-on-fail', 'on', '--no-progress'],
                                       cwd=a.appdir, env=env, capture_output=True, text=True, timeout=timeout)
                    status = {0: 'survived', 2: 'killed'}.get(p.returncode, 'error')
                    return status, ('' if status != 'error' else (p.stdout + p.stderr)[-600:]), p.returncode
                except subprocess.TimeoutExpired:
                    return 'timeout', '', None

            status, tail, code = run(['--filter', a.filter], a.timeout)
            phase = 'filter'
            if status == 'survived' and a.confirm_all:
                status, tail, code = run([], a.confirm_timeout)
                phase = 'all'
            row = dict(m, status=status, phase=phase, code=code, seconds=round(time.time() - started, 1), tail=tail)
            with lock:
                with open(a.out, 'a') as o:
                    o.write(json.dumps(row) + '\n')
                print(f"{m['id']} {status} ({phase}) {row['seconds']}s", flush=True)

    threads = [threading.Thread(target=worker) for _ in range(a.workers)]
    for t in threads: t.start()
    for t in threads: t.join()
    tally(a.out)

if __name__ == '__main__':
    main()
