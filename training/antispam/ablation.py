"""Measure each text-normalisation step on the validation split: `python -m training.antispam.ablation`.

Why a linear probe and not the LSTM: the question is what information each step keeps or removes from the
token stream (a shortcut, or signal), not how one network trains; a bag-of-tokens logistic regression over
the same tokens (min count 3, as the vocabulary) answers it in seconds per variant, so every step can be
switched off in turn. For each policy: validation accuracy on the re-joined raw text, and on the
robustness variants of `evaluate.py` (punctuation stripped, masks turned into raw digits, digits masked
everywhere). The numbers are quoted in docs/antispam.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np

from common.text_zh import TextPolicy, get_segmenter, tokenize
from training.antispam.data import load_corpus
from training.antispam.evaluate import robustness_variants

VARIANTS: dict[str, dict] = {
    "chosen (all steps, punctuation kept)": {},
    "digits kept": {"digits": "keep"},
    "punctuation dropped": {"punctuation": "drop"},
    "no NFKC": {"nfkc": False},
    "no lower case": {"lowercase": False},
    "no look-alikes": {"lookalikes": False},
    "no invisible-char removal": {"strip_invisible": False},
}


def probe(train_tokens, train_labels, eval_sets: dict[str, list[list[str]]], eval_labels) -> dict[str, float]:
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = CountVectorizer(analyzer=lambda toks: toks, min_df=1)
    counts: dict[str, int] = {}
    for toks in train_tokens:
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
    keep = {t for t, c in counts.items() if c >= 3}
    filt = lambda lists: [[t for t in toks if t in keep] for toks in lists]  # noqa: E731
    x = vec.fit_transform(filt(train_tokens))
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(x, train_labels)
    return {name: round(float((clf.predict(vec.transform(filt(toks))) == eval_labels).mean()), 4) for name, toks in eval_sets.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    corpus = load_corpus(args.data)
    tr, va = corpus.indices("train"), corpus.indices("val")
    seg = get_segmenter()
    variants = robustness_variants([corpus.segmented[i] for i in va])
    variants.pop("spaces_kept")
    rows = {}
    for name, change in VARIANTS.items():
        t0 = time.monotonic()
        policy = dataclasses.replace(TextPolicy(), **change)
        train_tokens = [tokenize(corpus.texts[i], policy, seg) for i in tr]
        eval_sets = {"validation": [tokenize(corpus.texts[i], policy, seg) for i in va]}
        for vname, texts in variants.items():
            eval_sets[vname] = [tokenize(t, policy, seg) for t in texts]
        rows[name] = probe(train_tokens, corpus.labels[tr], eval_sets, corpus.labels[va])
        rows[name]["seconds"] = round(time.monotonic() - t0, 1)
        print(name, json.dumps(rows[name]), flush=True)
    print(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
