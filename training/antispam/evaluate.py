"""Held-out evaluation of the anti-spam classifier, including the corpus-shortcut robustness checks.

Why the variants: PROVENANCE.md warns that spam has contact digits masked as `x` and nearly all the
Chinese punctuation. A model that learned those shortcuts looks excellent on the corpus and fails on real
traffic. Each variant rewrites the held-out raw texts so one shortcut disappears, and the accuracy drop is
the size of the model's dependence on it:
- `punctuation_stripped`: every punctuation/symbol character removed;
- `digits_raw`: the `x` masks of the corpus replaced by random digits (what real spam contains);
- `digits_masked_everywhere`: every digit of every text masked as `x` (the normal texts now look masked);
- `spaces_kept`: the segmented line joined with spaces instead of without (a user who types spaces).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Callable, Sequence

import numpy as np

SPAM = 0

_MASK_TOKEN = re.compile(r"^x+$")


def classification_metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, spam precision/recall/F1, confusion matrix (rows = truth spam/pass, columns = predicted)."""
    labels = np.asarray(labels)
    pred = np.argmax(probs, axis=1)
    cm = np.zeros((2, 2), dtype=np.int64)
    np.add.at(cm, (labels, pred), 1)
    tp, fn, fp = cm[SPAM, SPAM], cm[SPAM, 1 - SPAM], cm[1 - SPAM, SPAM]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": int(len(labels)),
        "accuracy": round(float((pred == labels).mean()), 5),
        "spam_precision": round(float(precision), 5),
        "spam_recall": round(float(recall), 5),
        "spam_f1": round(float(f1), 5),
        "confusion_matrix": {"rows_truth_cols_predicted": ["spam", "pass"], "matrix": cm.tolist()},
    }


def strip_punctuation(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS")


def unmask_digits(segmented: str, rng: np.random.Generator) -> str:
    """Re-joined text with each all-`x` token of the corpus replaced by random digits of the same length."""
    out = []
    for tok in segmented.split(" "):
        if _MASK_TOKEN.match(tok):
            tok = "".join(str(d) for d in rng.integers(0, 10, size=len(tok)))
        out.append(tok)
    return "".join(out)


def mask_all_digits(text: str) -> str:
    return re.sub(r"[0-9０-９]", "x", text)


def robustness_variants(segmented: Sequence[str], seed: int = 0) -> dict[str, list[str]]:
    """Raw-text variants of the held-out lines (see module docstring)."""
    rng = np.random.default_rng(seed)
    joined = [s.replace(" ", "") for s in segmented]
    return {
        "punctuation_stripped": [strip_punctuation(t) for t in joined],
        "digits_raw": [unmask_digits(s, rng) for s in segmented],
        "digits_masked_everywhere": [mask_all_digits(t) for t in joined],
        "spaces_kept": list(segmented),
    }


def evaluate(
    predict_texts: Callable[[list[str]], np.ndarray], texts: list[str], segmented: list[str], labels: np.ndarray
) -> dict:
    """Metrics on the held-out raw texts and on each robustness variant (accuracy + spam recall)."""
    metrics = classification_metrics(labels, predict_texts(texts))
    robust = {}
    for name, variant in robustness_variants(segmented).items():
        m = classification_metrics(labels, predict_texts(variant))
        robust[name] = {k: m[k] for k in ("accuracy", "spam_recall", "spam_precision")}
    metrics["robustness"] = robust
    return metrics
