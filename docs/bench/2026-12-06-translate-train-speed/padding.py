"""Padding of `translate train`'s batches on Multi30k, for BucketedPairBatches' two orders:
pools of 50 sorted batches (before) and the whole epoch sorted (now); batches of 64, sorted
by (source, target) length. Lengths from a re-implementation of WordTokenizer's split (a
word is a run of letters, digits and underscores with apostrophes inside; every other
visible character a token), the target + the end token. Prints the share of the padded
positions (B x longest) that are padding, averaged over 3 shuffles."""
import random, re, sys
D = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/translation/multi30k/"
split = lambda line: re.findall(r"\w+(?:['\u2019]\w+)*|[^\w\s]", line)
src = [len(split(l)) for l in open(D + "train.de", encoding="utf-8")]
tgt = [len(split(l)) + 1 for l in open(D + "train.en", encoding="utf-8")]
n = len(src)
print(f"{n} pairs; mean source {sum(src) / n:.2f} tokens, target {sum(tgt) / n:.2f} (with the end token)")
for name, pool in (("pools of 50 batches", 50), ("whole epoch", None)):
    pad = [0, 0, 0, 0]  # real source, padded source, real target, padded target
    for seed in range(3):
        order = list(range(n)); random.Random(seed).shuffle(order)
        size = n if pool is None else 64 * pool
        for start in range(0, n, size):
            chunk = order[start:start + size]
            ranked = sorted(range(len(chunk)), key=lambda k: (src[chunk[k]], tgt[chunk[k]], k))
            chunk = [chunk[k] for k in ranked]
            for b in range(0, len(chunk), 64):
                batch = chunk[b:b + 64]
                pad[0] += sum(src[i] for i in batch); pad[1] += max(src[i] for i in batch) * len(batch)
                pad[2] += sum(tgt[i] for i in batch); pad[3] += max(tgt[i] for i in batch) * len(batch)
    print(f"{name:20}: source padding {1 - pad[0] / pad[1]:.1%}, target padding {1 - pad[2] / pad[3]:.1%}; "
          f"mean padded source length {pad[1] / pad[0] * sum(src) / n:.2f}, target {pad[3] / pad[2] * sum(tgt) / n:.2f}")
