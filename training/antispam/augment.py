"""Training-time augmentation of the anti-spam corpus: extra training messages, seeded, recorded in the manifest.

Why, on top of the normalisation of `common.text_zh`: the normalisation hides the corpus's artefacts that are
characters (punctuation, `x` masks); what it cannot hide is what a message *is like* around them. Spam in the
corpus is three times longer than normal messages, so a sequence model can learn "long = spam"; and a step
of the pipeline that is switched off (an ablation, or an older policy) lets the other shortcuts back in.
Each step adds copies of training messages in which one shortcut points the wrong way (the originals stay):
- `punctuation`: normal messages with a comma at a clause boundary and a full stop, as people type them
  (the corpus's normal messages have almost none) — matters when punctuation is kept as tokens;
- `digits`: spam whose `x` masks are written out as random digits (real spam has digits) — matters when
  digits are not mapped to number classes;
- `crop`: spam cut to the length of a normal message drawn from the normal messages' token-count
  distribution (a window of that many tokens at a random start), so length stops separating the classes;
- `join`: two normal messages joined by a comma (a long normal message), the same shortcut from the
  other side;
- `register`: normal messages in the polite register everyday messages to shops, teachers and colleagues
  use: a greeting in front (`你好，`, `您好，` …) and/or `你` written `您`. The corpus's normal lines are
  informal fragments: `你好` is in 421 spam lines and 0 normal ones, `您好` 1,016 : 1, `您` 2,387 : 29, so
  a model reads politeness as spam (the issue's `你好，请问这本书还有货吗` was spam 1.00).
The three copy sets are drawn from one seeded generator; the counts added go into the manifest. A step whose
shortcut the text policy already hides is switched off (`effective`): its copies would be token-for-token
duplicates.
The ablation in docs/antispam.md shows which shortcut each step removes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from common.text_zh import TextPolicy
from training.antispam.evaluate import PASS, SPAM, add_punctuation, unmask_digits

_MASK_CHARS = set("xX")


@dataclass(frozen=True)
class Augmentation:
    """Share of eligible training messages that get one augmented copy, per step."""

    punctuation: float = 0.5  # normal messages -> + comma and full stop
    digits: float = 1.0  # spam with `x` masks -> masks written out as digits
    crop: float = 0.5  # spam longer than a sampled normal length -> cropped copy
    join: float = 0.25  # normal messages -> + joined with another normal message
    register: float = 0.3  # normal messages -> + greeting and/or polite 您
    min_crop_tokens: int = 4  # a crop keeps at least this many tokens (a spam message is never cut to one word)
    seed: int = 11

    @classmethod
    def off(cls) -> "Augmentation":
        return cls(punctuation=0.0, digits=0.0, crop=0.0, join=0.0, register=0.0)


GREETINGS = ("你好，", "您好，", "你好！", "您好！", "哈喽，", "嗨，", "老师好，", "老板，")


def polite(segmented: str, rng: np.random.Generator) -> str:
    """A normal message in the polite register: a greeting in front, `你` -> `您`, or both."""
    text = segmented.replace(" ", "")
    choice = int(rng.integers(0, 3))  # 0 greeting, 1 您, 2 both
    if choice >= 1:
        text = text.replace("你", "您")
    if choice != 1 or "您" not in text:
        text = GREETINGS[int(rng.integers(0, len(GREETINGS)))] + text
    return text


def crop_tokens(tokens: list[str], length: int, rng: np.random.Generator) -> list[str]:
    """A window of `length` consecutive tokens at a random start (all of them if the message is shorter)."""
    if len(tokens) <= length:
        return tokens
    start = int(rng.integers(0, len(tokens) - length + 1))
    return tokens[start : start + length]


def effective(cfg: Augmentation, policy: TextPolicy) -> Augmentation:
    """The steps that change the token stream under `policy`: a step whose shortcut the normalisation already
    hides (punctuation dropped; digits and masks mapped to number classes) would only add duplicates of
    training messages, i.e. re-weight one class, so it is switched off."""
    return dataclasses.replace(
        cfg,
        punctuation=cfg.punctuation if policy.punctuation == "keep" else 0.0,
        digits=cfg.digits if policy.digits != "classes" else 0.0,
    )


def augment(segmented: Sequence[str], labels: np.ndarray, cfg: Augmentation) -> tuple[list[str], np.ndarray, dict[str, int]]:
    """(raw texts, labels, counts per step) of the added training messages; deterministic for `cfg.seed`."""
    rng = np.random.default_rng(cfg.seed)
    labels = np.asarray(labels)
    texts: list[str] = []
    out_labels: list[int] = []
    counts = {"punctuation": 0, "digits": 0, "crop": 0, "join": 0, "register": 0}
    normal = np.flatnonzero(labels == PASS)
    normal_lengths = np.array([len(segmented[i].split(" ")) for i in normal])
    for s, label in zip(segmented, labels.tolist()):
        if label == PASS and cfg.punctuation > 0 and rng.random() < cfg.punctuation:
            texts.append(add_punctuation(s, rng))
            out_labels.append(PASS)
            counts["punctuation"] += 1
        if label == PASS and cfg.join > 0 and rng.random() < cfg.join:
            other = segmented[int(normal[rng.integers(0, len(normal))])]
            texts.append(s.replace(" ", "") + "，" + other.replace(" ", ""))
            out_labels.append(PASS)
            counts["join"] += 1
        if label == PASS and cfg.register > 0 and rng.random() < cfg.register:
            texts.append(polite(s, rng))
            out_labels.append(PASS)
            counts["register"] += 1
        if label != SPAM:
            continue
        toks = s.split(" ")
        if cfg.digits > 0 and any(t and set(t) <= _MASK_CHARS for t in toks) and rng.random() < cfg.digits:
            texts.append(unmask_digits(s, rng))
            out_labels.append(SPAM)
            counts["digits"] += 1
        if cfg.crop > 0 and len(normal_lengths) and rng.random() < cfg.crop:
            length = max(int(rng.choice(normal_lengths)), cfg.min_crop_tokens)
            if len(toks) > length:
                texts.append("".join(crop_tokens(toks, length, rng)))
                out_labels.append(SPAM)
                counts["crop"] += 1
    return texts, np.array(out_labels, dtype=np.int64), counts
