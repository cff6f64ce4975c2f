#!/usr/bin/env python3
"""BLEU by source length, recomputed with sacrebleu from `eval --output` files, the buckets
counted in word tokens (WordTokenizer's split, tokens.py) for every model, so that a BPE
model's column uses the same sentences per bucket as the word models'.

usage: bylength.py SOURCE REFERENCE NAME=HYPOTHESES [NAME=HYPOTHESES ...]   (needs sacrebleu 2.x)
"""
import os, sys
import sacrebleu
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokens import word_count

BUCKETS = [(1, 10), (11, 15), (16, 20), (21, 25), (26, 10**9)]

def main():
    source, reference = sys.argv[1:3]
    runs = [a.split('=', 1) for a in sys.argv[3:]]
    src = [l.strip() for l in open(source, encoding='utf-8')]
    ref = [l.rstrip('\n').strip() for l in open(reference, encoding='utf-8')]
    hyps = {name: [l.rstrip('\n') for l in open(path, encoding='utf-8')] for name, path in runs}
    lengths = [word_count(s) for s in src]
    print('| source tokens | sentences | ' + ' | '.join(n for n, _ in runs) + ' |')
    print('| --- | --- |' + ' --- |' * len(runs))
    for lo, hi in BUCKETS:
        idx = [i for i, n in enumerate(lengths) if lo <= n <= hi]
        name = f'{lo}-{hi}' if hi < 10**9 else f'{lo}+'
        cells = [f'{sacrebleu.corpus_bleu([hyps[n][i] for i in idx], [[ref[i] for i in idx]]).score:.2f}' for n, _ in runs]
        print(f'| {name} | {len(idx)} | ' + ' | '.join(cells) + ' |')
    cells = [f'{sacrebleu.corpus_bleu(hyps[n], [ref]).score:.2f}' for n, _ in runs]
    print(f'| all | {len(src)} | ' + ' | '.join(cells) + ' |')

if __name__ == '__main__':
    main()
