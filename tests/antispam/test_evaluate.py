"""training/antispam/evaluate.py: metrics and the shortcut-revealing variants."""

from __future__ import annotations

import numpy as np

from training.antispam.evaluate import classification_metrics, mask_all_digits, robustness_variants, strip_punctuation


def test_metrics_from_known_confusion() -> None:
    labels = np.array([0, 0, 0, 1, 1])  # 0 = spam
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    m = classification_metrics(labels, probs)
    assert m["confusion_matrix"]["matrix"] == [[2, 1], [1, 1]]
    assert m["accuracy"] == 0.6
    assert m["spam_precision"] == round(2 / 3, 5) and m["spam_recall"] == round(2 / 3, 5)


def test_variants_remove_each_shortcut() -> None:
    seg = ["详询 xxxxxxxxxxx ， 优惠 ！", "我 30 岁 了"]
    v = robustness_variants(seg, seed=1)
    assert v["punctuation_stripped"] == ["详询xxxxxxxxxxx优惠", "我30岁了"]
    raw = v["digits_raw"][0]
    assert raw.startswith("详询") and sum(ch.isdigit() for ch in raw) == 11 and "x" not in raw
    assert v["digits_masked_everywhere"][1] == "我xx岁了"
    assert v["spaces_kept"] == seg
    assert strip_punctuation("a，b“c”") == "abc" and mask_all_digits("１2") == "xx"
