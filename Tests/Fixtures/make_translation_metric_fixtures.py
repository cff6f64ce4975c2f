"""Corpus BLEU and chrF fixtures for Tests/SequentDataTests/BLEUTests.swift and ChrFTests.swift,
computed by sacrebleu (PyPI) with its defaults: corpus_bleu (13a, exp smoothing) and corpus_chrf.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install sacrebleu
    /tmp/venv/bin/python Tests/Fixtures/make_translation_metric_fixtures.py
"""
import json, random, pathlib
import sacrebleu

random.seed(20)
WORDS = ("a man woman dog child is are in on the of with red blue small big street water ball "
         "playing running sitting standing two three people group young old shirt hat near "
         "front park beach snow grass bike car building wall table holding looking").split()
PUNCT = [".", ",", "!", "?", ";", ":", "'s", "-", "(", ")", "\"", "&amp;", "&", "/", "$5", "3.5", "1,000", "9-year-old",
         "Straße", "über", "naïve", "e-mail", "U.S.", "...", "don't", "O'Neil"]

def sentence(rng, n):
    tokens = [rng.choice(WORDS) if rng.random() > 0.2 else rng.choice(PUNCT) for _ in range(n)]
    text = " ".join(tokens)
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    return text.replace(" .", ".") if rng.random() < 0.5 else text

def perturb(rng, text):
    words = text.split()
    out = []
    for w in words:
        r = rng.random()
        if r < 0.15: continue
        if r < 0.3: out.append(rng.choice(WORDS)); continue
        out.append(w)
        if r > 0.93: out.append(rng.choice(WORDS))
    return " ".join(out)

cases = []
def add(name, hyps, refs):
    bleu = sacrebleu.corpus_bleu(hyps, [refs])
    chrf = sacrebleu.corpus_chrf(hyps, [refs])
    cases.append({"name": name, "hypotheses": hyps, "references": refs,
                  "bleu": bleu.score, "bleu_precisions": bleu.precisions, "bleu_bp": bleu.bp,
                  "sys_len": bleu.sys_len, "ref_len": bleu.ref_len, "chrf": chrf.score})

rng = random.Random(1)
refs = [sentence(rng, rng.randint(3, 25)) for _ in range(60)]
add("random_perturbed", [perturb(rng, r) for r in refs], refs)
add("identical", refs[:10], refs[:10])
add("short_hypotheses", [" ".join(r.split()[:3]) for r in refs[:20]], refs[:20])
add("longer_hypotheses", [r + " and then some more words here" for r in refs[:15]], refs[:15])
add("no_match", ["xyz qqq"] * 3, ["A man is walking.", "Two dogs play.", "Snow"])
add("one_word_each", ["dog", "cat", "the"], ["dog", "a cat", "the man ."])
add("tokenizer_edges", [
    "He paid $5,000.50 for a 3-year-old car -- really?!",
    "The U.S.-based firm's e-mail: info@example.com (see http://x.org/a_b).",
    "Tom &amp; Jerry &quot;fight&quot; &lt;loudly&gt;   over   1,2,3.",
    "Ein Mann fährt über die Straße; naïve Café-Besucher schauen zu…",
    "trailing spaces   ",
    "numbers 10-20 and 3.14, 2,5 and x.y z,w",
], [
    "He paid $5,000.50 for a 3-year-old car - really ?!",
    "The US-based firm's email: info@example.com (see http://x.org/a_b)",
    "Tom & Jerry \"fight\" <loudly> over 1, 2, 3.",
    "Ein Mann fährt über die Straße ; naive Café-Besucher schauen zu ...",
    "trailing spaces",
    "numbers 10 - 20 and 3.14 , 2,5 and x. y z, w",
])
path = pathlib.Path(__file__).parent / "translation" / "metrics.json"
path.write_text(json.dumps({"sacrebleu_version": sacrebleu.__version__, "cases": cases}, ensure_ascii=False, indent=1) + "\n")
print(path, [(c["name"], round(c["bleu"], 4), round(c["chrf"], 4)) for c in cases])
