#!/usr/bin/env python3
"""The record of a mutation-testing sample (docs/testing.md "Recorded runs").

    scripts/mutants_estimate.py OUTCOMES.json [MORE-OUTCOMES.json ...]

Reads cargo-mutants' outcomes.json files (mutants.out/*/mutants.out/outcomes.json): the first
is the sample; a later file re-judges the sample's mutants it also ran (`--again` on the
survivors, with more tests or the whole suite) and adds no others. Prints caught / missed / unviable / timeout per file as a
Markdown table, the missed share of the viable mutants (caught + missed + timeout) with its
exact (Clopper-Pearson) 95 % interval, and the missed mutants. The interval treats the sample
as random draws; a round-robin sample (--sample K/N) is a systematic one, close enough when
survivors are not periodic in the mutant list.
"""
import json, sys, math
from collections import defaultdict, OrderedDict

def binom_cdf(k, n, p):
    return sum(math.comb(n, i) * p**i * (1-p)**(n-i) for i in range(k+1))

def cp(k, n, a=0.05):
    lo = 0.0
    if k > 0:
        l, h = 0.0, 1.0
        for _ in range(60):
            m = (l+h)/2
            if 1 - binom_cdf(k-1, n, m) < a/2: l = m
            else: h = m
        lo = l
    hi = 1.0
    if k < n:
        l, h = 0.0, 1.0
        for _ in range(60):
            m = (l+h)/2
            if binom_cdf(k, n, m) > a/2: l = m
            else: h = m
        hi = h
    return lo, hi

res = OrderedDict()
for n, path in enumerate(sys.argv[1:]):
    d = json.load(open(path))
    for o in d['outcomes']:
        sc = o['scenario']
        if not isinstance(sc, dict) or 'Mutant' not in sc: continue
        m = sc['Mutant']
        # Later runs only re-judge the first run's mutants (an --again run can include others).
        if n == 0 or m['name'] in res:
            res[m['name']] = (m['file'], o['summary'])
per = defaultdict(lambda: defaultdict(int))
for name, (f, s) in res.items():
    per[f][s] += 1
kinds = ['CaughtMutant', 'MissedMutant', 'Unviable', 'Timeout']
print('| file | caught | missed | unviable | timeout |')
print('|---|---|---|---|---|')
tot = defaultdict(int)
for f in sorted(per):
    print('| `%s` | %s |' % (f, ' | '.join(str(per[f][k]) for k in kinds)))
    for k in kinds: tot[k] += per[f][k]
print('| total | %s |' % ' | '.join(str(tot[k]) for k in kinds))
viable = tot['CaughtMutant'] + tot['MissedMutant'] + tot['Timeout']
k = tot['MissedMutant']
lo, hi = cp(k, viable)
print(f'\nviable {viable}, missed {k} = {100*k/max(viable,1):.1f} %, 95 % CI {100*lo:.1f}–{100*hi:.1f} %')
for name, (f, s) in res.items():
    if s == 'MissedMutant': print('  missed:', name)
