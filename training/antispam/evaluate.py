"""Held-out evaluation of the anti-spam classifier, and the robustness suite written into every manifest.

Why a suite: the corpus's PROVENANCE.md warns that spam has contact digits masked as `x`, nearly all the
Chinese punctuation, and three times the length of normal messages. A model that learned those shortcuts
scores well on held-out corpus lines and fails on real traffic. Each perturbation rewrites the held-out raw
texts so that one shortcut points the wrong way, and is scored where the shortcut would hurt:
- `punctuation_stripped`: every punctuation/symbol character removed (accuracy, all messages);
- `punctuation_added`: normal messages written as people type them, a comma at a clause boundary and a
  full stop (or question mark) at the end (pass recall, normal messages only);
- `digits_written_out`: the corpus's `x` masks in spam written out as random digits, as real spam has them
  (spam recall, spam only);
- `length_matched`: the held-out subset in which spam and normal messages have the same length
  distribution (per token-count bin, as many of each class), so length says nothing (accuracy).
The **robust floor** is the minimum of these four figures. The challenge set (`challenge/messages.tsv`, hand
written everyday messages, see its README) is scored separately. Two more variants are reported, not in
the floor: `digits_masked_everywhere` and `spaces_kept` (a user who types spaces between words).

The same functions score a version through a running gateway (`scripts/eval_antispam_gateway.py`), so the
manifest's figures and the end-to-end figures are computed identically.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

SPAM, PASS = 0, 1
CHALLENGE_FILE = Path(__file__).resolve().parent / "challenge" / "messages.tsv"
FLOOR = ("punctuation_stripped", "punctuation_added", "digits_written_out", "length_matched")
LENGTH_BIN = 5  # tokens per bin of the length-matched subset

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


def add_punctuation(segmented: str, rng: np.random.Generator) -> str:
    """A message as people type it: a comma at a clause boundary near the middle, a full stop at the end.

    The boundary is a token boundary of the corpus's segmentation (never inside a word); a message that
    already ends with punctuation keeps its end; one ending in a question particle gets a question mark.
    """
    toks = [t for t in segmented.split(" ") if t]
    if len(toks) >= 3:
        k = int(rng.integers(len(toks) // 3, 2 * len(toks) // 3 + 1))
        k = min(max(k, 1), len(toks) - 1)
        if unicodedata.category(toks[k - 1][-1])[0] != "P" and unicodedata.category(toks[k][0])[0] != "P":
            toks.insert(k, "，")
    text = "".join(toks)
    if text and unicodedata.category(text[-1])[0] != "P":
        text += "？" if text[-1] in "吗呢么" else "。"
    return text


def robustness_variants(segmented: Sequence[str], seed: int = 0) -> dict[str, list[str]]:
    """Raw-text variants of every held-out line (the class-specific ones are scored on one class only)."""
    rng = np.random.default_rng(seed)
    joined = [s.replace(" ", "") for s in segmented]
    return {
        "punctuation_stripped": [strip_punctuation(t) for t in joined],
        "punctuation_added": [add_punctuation(s, rng) for s in segmented],
        "digits_written_out": [unmask_digits(s, rng) for s in segmented],
        "digits_masked_everywhere": [mask_all_digits(t) for t in joined],
        "spaces_kept": list(segmented),
    }


def length_matched_subset(segmented: Sequence[str], labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices of a subset whose spam and normal messages have the same token-count distribution."""
    rng = np.random.default_rng(seed)
    lengths = np.array([len(s.split(" ")) for s in segmented])
    bins = lengths // LENGTH_BIN
    keep: list[np.ndarray] = []
    for b in np.unique(bins):
        spam = np.flatnonzero((bins == b) & (labels == SPAM))
        ham = np.flatnonzero((bins == b) & (labels == PASS))
        n = min(len(spam), len(ham))
        if n:
            keep += [rng.choice(spam, n, replace=False), rng.choice(ham, n, replace=False)]
    return np.sort(np.concatenate(keep)) if keep else np.array([], dtype=np.int64)


@dataclass(frozen=True)
class Probe:
    """One scored set: texts, their labels, which figure counts ("accuracy", "pass_recall", "spam_recall")."""

    name: str
    texts: list[str]
    labels: np.ndarray
    metric: str


def held_out_probes(segmented: Sequence[str], labels: np.ndarray, seed: int = 0) -> list[Probe]:
    """The raw held-out set and every perturbation of the suite, as probes."""
    labels = np.asarray(labels)
    joined = [s.replace(" ", "") for s in segmented]
    v = robustness_variants(segmented, seed)
    spam, ham = np.flatnonzero(labels == SPAM), np.flatnonzero(labels == PASS)
    lm = length_matched_subset(segmented, labels, seed)
    return [
        Probe("raw", joined, labels, "accuracy"),
        Probe("punctuation_stripped", v["punctuation_stripped"], labels, "accuracy"),
        Probe("punctuation_added", [v["punctuation_added"][i] for i in ham], labels[ham], "pass_recall"),
        Probe("digits_written_out", [v["digits_written_out"][i] for i in spam], labels[spam], "spam_recall"),
        Probe("length_matched", [joined[i] for i in lm], labels[lm], "accuracy"),
        Probe("digits_masked_everywhere", v["digits_masked_everywhere"], labels, "accuracy"),
        Probe("spaces_kept", v["spaces_kept"], labels, "accuracy"),
    ]


def load_challenge(path: Path = CHALLENGE_FILE) -> tuple[list[str], np.ndarray, list[str]]:
    """(texts, labels, kinds) of the hand-written challenge set."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    names = {"spam": SPAM, "pass": PASS}
    return [r["text"] for r in rows], np.array([names[r["label"]] for r in rows], dtype=np.int64), [r["kind"] for r in rows]


def score(probe: Probe, probs: np.ndarray) -> dict:
    """The probe's figure (`value`), plus accuracy and n."""
    pred = np.argmax(probs, axis=1)
    correct = pred == probe.labels
    return {"metric": probe.metric, "value": round(float(correct.mean()), 5) if len(correct) else None,
            "n": int(len(correct))}


def challenge_report(predict_texts: Callable[[list[str]], np.ndarray], path: Path = CHALLENGE_FILE) -> dict:
    """Accuracy on the challenge set, per class and per kind, and the messages it got wrong."""
    texts, labels, kinds = load_challenge(path)
    pred = np.argmax(predict_texts(texts), axis=1)
    ok = pred == labels
    by_kind = {k: round(float(ok[[i for i, kk in enumerate(kinds) if kk == k]].mean()), 4) for k in sorted(set(kinds))}
    return {
        "accuracy": round(float(ok.mean()), 5),
        "n": int(len(ok)),
        "pass_recall": round(float(ok[labels == PASS].mean()), 5),
        "spam_recall": round(float(ok[labels == SPAM].mean()), 5),
        "by_kind": by_kind,
        "wrong": [{"text": texts[i], "truth": "spam" if labels[i] == SPAM else "pass"} for i in np.flatnonzero(~ok)],
    }


def robustness_suite(predict_texts: Callable[[list[str]], np.ndarray], segmented: Sequence[str], labels: np.ndarray,
                     seed: int = 0, challenge: Path | None = CHALLENGE_FILE) -> dict:
    """Every perturbation's figure, the robust floor (minimum over FLOOR), and the challenge set."""
    out: dict = {"perturbations": {}}
    for probe in held_out_probes(segmented, labels, seed)[1:]:
        out["perturbations"][probe.name] = score(probe, predict_texts(probe.texts))
    floor = [out["perturbations"][k]["value"] for k in FLOOR if out["perturbations"][k]["value"] is not None]
    out["robust_floor"] = min(floor) if floor else None
    out["robust_floor_of"] = list(FLOOR)
    if challenge is not None:
        out["challenge"] = challenge_report(predict_texts, challenge)
    return out


def evaluate(
    predict_texts: Callable[[list[str]], np.ndarray], texts: list[str], segmented: list[str], labels: np.ndarray
) -> tuple[dict, dict]:
    """(metrics on the held-out raw texts, the robustness suite)."""
    return classification_metrics(labels, predict_texts(texts)), robustness_suite(predict_texts, segmented, labels)
