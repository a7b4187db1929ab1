"""training/antispam/augment.py: seeded copies of training messages, each with one shortcut pointing the wrong way."""

from __future__ import annotations

import numpy as np

from common.text_zh import TextPolicy
from training.antispam.augment import GREETINGS, Augmentation, augment, crop_tokens, effective
from training.antispam.evaluate import PASS, SPAM

SEG = ["全场 x 折 ， 详询 xxxxxxxxxxx 优惠 多多 欢迎 光临 本店 新品 上市"] * 6 + ["好 的", "明天 见 吧", "我 到 了"] * 4
LABELS = np.array([SPAM] * 6 + [PASS] * 12)


def test_augmentation_is_seeded_and_counted() -> None:
    cfg = Augmentation(punctuation=1.0, digits=1.0, crop=1.0, join=0.0, register=0.0)
    a, b = augment(SEG, LABELS, cfg), augment(SEG, LABELS, cfg)
    assert a[0] == b[0] and (a[1] == b[1]).all() and a[2] == b[2]
    texts, labels, counts = a
    assert counts == {"punctuation": 12, "digits": 6, "crop": 6, "join": 0, "register": 0}
    assert len(texts) == len(labels) == sum(counts.values())
    assert augment(SEG, LABELS, Augmentation(punctuation=1.0, digits=1.0, crop=1.0, join=0.0, register=0.0, seed=3))[0] != texts


def test_each_step_changes_what_it_says() -> None:
    texts, labels, _ = augment(SEG, LABELS, Augmentation(punctuation=1.0, digits=0.0, crop=0.0, join=0.0, register=0.0))
    assert (labels == PASS).all() and all(t.endswith(("。", "？")) for t in texts)
    texts, labels, _ = augment(SEG, LABELS, Augmentation(punctuation=0.0, digits=1.0, crop=0.0, join=0.0, register=0.0))
    assert (labels == SPAM).all() and all("x" not in t and sum(c.isdigit() for c in t) == 12 for t in texts)
    texts, labels, _ = augment(SEG, LABELS, Augmentation(punctuation=0.0, digits=0.0, crop=1.0, join=0.0, register=0.0,
                                                         min_crop_tokens=4))
    assert (labels == SPAM).all() and all(len(t) < len(SEG[0].replace(" ", "")) for t in texts)
    texts, labels, _ = augment(SEG, LABELS, Augmentation.off().__class__(punctuation=0.0, digits=0.0, crop=0.0, join=1.0, register=0.0))
    assert (labels == PASS).all() and all("，" in t for t in texts) and len(texts) == 12
    texts, labels, _ = augment(SEG, LABELS, Augmentation(punctuation=0.0, digits=0.0, crop=0.0, join=0.0, register=1.0))
    assert (labels == PASS).all() and all(t.startswith(GREETINGS) or "您" in t for t in texts)
    assert set(augment(SEG, LABELS, Augmentation.off())[2].values()) == {0}


def test_crop_keeps_consecutive_tokens() -> None:
    toks = list("abcdefgh")
    out = crop_tokens(toks, 3, np.random.default_rng(0))
    assert len(out) == 3 and "".join(out) in "abcdefgh"
    assert crop_tokens(toks, 20, np.random.default_rng(0)) == toks


def test_steps_the_policy_already_covers_are_switched_off() -> None:
    cfg = Augmentation(punctuation=0.5, digits=1.0, crop=0.5)
    assert effective(cfg, TextPolicy()) == Augmentation(punctuation=0.0, digits=0.0, crop=0.5)  # join, register kept
    assert effective(cfg, TextPolicy.from_dict({})) == cfg  # version 1: punctuation kept, digits masked
