#!/usr/bin/env python3
"""Validation BLEU / chrF / loss by step of several runs side by side, from the eval rows of
their metrics.jsonl (the `*-eval-metrics.jsonl` files here).

usage: curves.py NAME=EVAL_METRICS_JSONL [NAME=...]
"""
import json, sys

def main():
    runs = [a.split('=', 1) for a in sys.argv[1:]]
    table = {}
    for name, path in runs:
        for line in open(path):
            row = json.loads(line)
            if 'eval/bleu' in row:
                table.setdefault(row['step'], {})[name] = row
    print('| step | ' + ' | '.join(f'{n} BLEU | {n} chrF | {n} loss' for n, _ in runs) + ' |')
    print('| --- |' + ' --- | --- | --- |' * len(runs))
    for step in sorted(table):
        cells = []
        for name, _ in runs:
            r = table[step].get(name)
            cells += [f"{r['eval/bleu']:.2f}", f"{r['eval/chrf']:.2f}", f"{r['eval/loss']:.4f}"] if r else ['', '', '']
        print(f'| {step} | ' + ' | '.join(cells) + ' |')

if __name__ == '__main__':
    main()
