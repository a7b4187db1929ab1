"""Which shortcut each preprocessing and augmentation step removes: `python -m training.antispam.ablation`.

Why a linear probe and not the LSTM: the question is what each step lets a model learn from the token
stream (a corpus artefact, or signal), not how one network trains; a bag-of-tokens logistic regression over
the same tokens (min count 3, as the vocabulary) answers it in seconds per row, so every step can be switched
on and off in turn. Each row trains on the training split (plus that row's augmented copies) and is scored
on the validation split with the robustness suite of `evaluate.py` (the same functions that write the
manifest's figures) and on the challenge set. LSTM figures of the rows that matter are measured by
`servectl train` itself (manifest `metrics.robustness`); docs/antispam.md quotes both.

    python -m training.antispam.ablation --out docs/benchmarks/antispam-ablation.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np

from common.text_zh import TextPolicy, get_segmenter, tokenize
from training.antispam.augment import Augmentation, augment
from training.antispam.data import load_corpus
from training.antispam.evaluate import classification_metrics, robustness_suite

V1 = {"version": 1}
OFF = Augmentation.off()
ROWS: dict[str, tuple[dict, Augmentation]] = {
    "v1 pipeline (before issue 20), no augmentation": (V1, OFF),
    "v1 + punctuation added to normal messages": (V1, dataclasses.replace(OFF, punctuation=0.5)),
    "v1 + x masks written out in spam": (V1, dataclasses.replace(OFF, digits=1.0)),
    "v1 + spam cropped to normal lengths": (V1, dataclasses.replace(OFF, crop=0.5)),
    "v1 + all three augmentations": (V1, Augmentation(punctuation=0.5, digits=1.0, crop=0.5)),
    "v2 but punctuation kept (+ punctuation augmentation)": ({"punctuation": "keep"}, dataclasses.replace(OFF, punctuation=0.5, crop=0.5)),
    "v2 but digits masked as x, not classes": ({"digits": "mask"}, dataclasses.replace(OFF, crop=0.5)),
    "v2 but no link tokens": ({"links": False}, dataclasses.replace(OFF, crop=0.5)),
    "v2, no augmentation": ({}, OFF),
    "v2 + spam cropped": ({}, dataclasses.replace(OFF, crop=0.5)),
    "v2 + cropped + normal messages joined": ({}, dataclasses.replace(OFF, crop=0.5, join=0.25)),
    "v2 + cropped + polite register": ({}, dataclasses.replace(OFF, crop=0.5, register=0.3)),
    "v2 + cropped + joined + polite register (the default)": ({}, Augmentation()),
}


def policy_for(change: dict) -> TextPolicy:
    return TextPolicy.from_dict({}) if change.get("version") == 1 else dataclasses.replace(TextPolicy(), **change)


def probe_predictor(train_tokens, train_labels, policy: TextPolicy, seg):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    counts: dict[str, int] = {}
    for toks in train_tokens:
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
    keep = {t for t, c in counts.items() if c >= 3}
    vec = CountVectorizer(analyzer=lambda toks: [t for t in toks if t in keep])
    clf = LogisticRegression(max_iter=3000, C=1.0).fit(vec.fit_transform(train_tokens), train_labels)

    def predict_texts(texts: list[str]) -> np.ndarray:
        return clf.predict_proba(vec.transform([tokenize(t, policy, seg) for t in texts]))  # columns: 0 spam, 1 pass

    return predict_texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--out", default=None, help="also write the table as JSON")
    ap.add_argument("--rows", default=None, help="only the rows whose name contains this text")
    args = ap.parse_args()
    corpus = load_corpus(args.data)
    tr, va = corpus.indices("train"), corpus.indices("val")
    seg = get_segmenter()
    rows = {}
    for name, (change, aug) in ROWS.items():
        if args.rows and args.rows not in name:
            continue
        t0 = time.monotonic()
        policy = policy_for(change)
        extra_texts, extra_labels, added = augment([corpus.segmented[i] for i in tr], corpus.labels[tr], aug)
        texts = [corpus.texts[i] for i in tr] + extra_texts
        labels = np.concatenate([corpus.labels[tr], extra_labels])
        predict = probe_predictor([tokenize(t, policy, seg) for t in texts], labels, policy, seg)
        raw = classification_metrics(corpus.labels[va], predict([corpus.texts[i] for i in va]))
        suite = robustness_suite(predict, [corpus.segmented[i] for i in va], corpus.labels[va])
        row = {"validation": raw["accuracy"], **{k: v["value"] for k, v in suite["perturbations"].items()},
               "robust_floor": suite["robust_floor"], "challenge": suite["challenge"]["accuracy"],
               "added": added, "seconds": round(time.monotonic() - t0, 1)}
        rows[name] = row
        print(name, json.dumps(row, ensure_ascii=False), flush=True)
    cols = ["validation", "punctuation_stripped", "punctuation_added", "digits_written_out", "length_matched", "robust_floor", "challenge"]
    print("\n| step | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.4f}" for c in cols) + " |")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(rows, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
