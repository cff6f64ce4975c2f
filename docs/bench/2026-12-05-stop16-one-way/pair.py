import json,sys,collections
best=collections.defaultdict(dict)
for line in open(sys.argv[1]):
    parts=line.split(' ',2)
    if len(parts)<3 or not parts[2].startswith('{'): continue
    side=parts[0]; d=json.loads(parts[2])
    key=(d['workload'],d['mode'])
    if 'tokens_per_s' in d: v=d['tokens_per_s']; better=max
    else: v=d['us_per_token']; better=min
    best[key][side]=better(best[key].get(side,v),v)
print("| workload | mode | before (cd6b47f) | after | after/before |")
print("| --- | --- | --- | --- | --- |")
for (w,m),s in sorted(best.items()):
    b,a=s.get('before'),s.get('after')
    unit='us/token' if m=='stream' else 'tokens/s'
    ratio=(a/b if m!='stream' else b/a) if a and b else float('nan')
    print(f"| {w} | {m} | {b:,} {unit} | {a:,} | {ratio:.2f} |")
