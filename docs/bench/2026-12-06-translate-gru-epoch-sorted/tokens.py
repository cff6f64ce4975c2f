#!/usr/bin/env python3
"""Tokens per sentence of Multi30k under a model folder's tokenizers, recomputed in Python
from tokenizer.json (BytePairTokenizer's chunks + merges lowest rank first; WordTokenizer's
split, unknown words counting as one <unk>), lines stripped as the command reads them.
The target count adds the end token the model predicts (encodeTarget).

usage: tokens.py MODEL_DIR SOURCE_FILE TARGET_FILE
"""
import json, os, sys, unicodedata

def byte_class(b):
    if 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A or b >= 0x80: return 'l'
    if 0x30 <= b <= 0x39: return 'd'
    if b in (0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D): return 's'
    return 'o'

def chunks(bs):
    n, i = len(bs), 0
    while i < n:
        start, kind = i, byte_class(bs[i])
        if bs[i] == 0x20 and i + 1 < n and byte_class(bs[i + 1]) != 's':
            i += 1
            kind = byte_class(bs[i])
        elif kind == 's':
            b = bs[i]
            while i < n and bs[i] == b: i += 1
            if b == 0x20 and i < n and i - start > 1 and byte_class(bs[i]) != 's': i -= 1
            yield bs[start:i]
            continue
        i += 1
        while i < n and byte_class(bs[i]) == kind: i += 1
        yield bs[start:i]

class BPE:
    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.ranks = {(a, b): r for r, (a, b) in enumerate(merges)}
        self.cache = {}
    def encode_chunk(self, chunk):
        word = list(chunk)
        while len(word) > 1:
            best = min((self.ranks.get((word[i], word[i + 1]), 1 << 60) for i in range(len(word) - 1)))
            if best == 1 << 60: break
            a, b = self.merges[best]
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == a and word[i + 1] == b:
                    out.append(256 + best); i += 2
                else:
                    out.append(word[i]); i += 1
            word = out
        return word
    def count(self, text):
        total = 0
        for c in chunks(text.encode()):
            c = bytes(c)
            if c not in self.cache: self.cache[c] = len(self.encode_chunk(c))
            total += self.cache[c]
        return total

def is_word_scalar(ch):
    o = ord(ch)
    if o < 128: return (48 <= o <= 57) or (65 <= o <= 90) or (97 <= o <= 122) or o == 95
    return ch.isalpha() or unicodedata.numeric(ch, None) is not None or unicodedata.category(ch).startswith('M')

def word_count(text):
    n, i, count = len(text), 0, 0
    while i < n:
        ch = text[i]
        if ch == '\n': count += 1; i += 1
        elif ch.isspace(): i += 1
        elif is_word_scalar(ch):
            j = i + 1
            while j < n:
                if is_word_scalar(text[j]): j += 1
                elif text[j] in "'\u2019" and j + 1 < n and is_word_scalar(text[j + 1]): j += 2
                else: break
            count += 1; i = j
        else:
            j = i + 1
            while j < n and unicodedata.category(text[j]).startswith('M'): j += 1
            count += 1; i = j
    return count

def counter(path):
    spec = json.load(open(path))
    if spec['type'] == 'bpe':
        return BPE(spec['merges']).count
    return word_count

def main():
    folder, src, tgt = sys.argv[1:4]
    src_count = counter(os.path.join(folder, 'tokenizer.json'))
    tgt_path = os.path.join(folder, 'target_tokenizer.json')
    tgt_count = counter(tgt_path if os.path.exists(tgt_path) else os.path.join(folder, 'tokenizer.json'))
    s = [src_count(l.strip()) for l in open(src, encoding='utf-8')]
    t = [tgt_count(l.strip()) + 1 for l in open(tgt, encoding='utf-8')]
    print(json.dumps({'folder': folder, 'sentences': len(s), 'source_tokens': sum(s), 'target_tokens_with_end': sum(t),
                      'source_per_sentence': round(sum(s) / len(s), 2), 'target_per_sentence_with_end': round(sum(t) / len(t), 2),
                      'target_per_sentence_without_end': round(sum(t) / len(t) - 1, 2)}))

if __name__ == '__main__':
    main()
