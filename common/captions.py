"""English caption tokeniser for the text-to-image family: the ONE implementation used by training and the gateway.

Why TF-free and download-free: the gateway never imports TensorFlow, and the model must see exactly the ids
the gateway will send, so tokenisation lives here and nowhere else. NLTK's punkt data cannot be fetched at
run time; captions are short, single-sentence descriptions, for which "lower-case, punctuation to spaces,
split on whitespace" is what the book's pre-processing amounts to.

Ids: ``<PAD>`` = 0 (padding, the servable's contract), ``<UNK>`` = 1, ``<END>`` = 2 (appended to every
caption, so the LSTM sees where the sentence stops), then the training words by falling frequency.
The vocabulary is stored as an asset (one token per line, line number = id) inside each exported version.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

PAD, UNK, END = "<PAD>", "<UNK>", "<END>"
PAD_ID, UNK_ID, END_ID = 0, 1, 2
SPECIALS = (PAD, UNK, END)
MAX_TOKENS = 50  # word tokens per caption (the end token is added on top)
VOCAB_ASSET = "caption_vocab.txt"

_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)  # anything that is not a letter or digit


class CaptionError(ValueError):
    """A caption the tokeniser cannot use; the message says what was wrong and what is accepted."""


def words(caption: str) -> list[str]:
    """Lower-case, punctuation (and any other non-alphanumeric character) to spaces, split into words."""
    return _SEPARATORS.sub(" ", caption.lower()).split()


@dataclass(frozen=True)
class Encoded:
    ids: list[int]  # word ids followed by END_ID; never PAD_ID
    tokens: list[str]  # the word tokens as used (unknown ones as they were written)
    unknown: list[str]  # words not in the vocabulary (mapped to <UNK>), in order, without duplicates

    @property
    def known_count(self) -> int:
        return len(self.tokens) - sum(1 for i in self.ids[:-1] if i == UNK_ID)


class Vocabulary:
    """Token <-> id table. Built once from the training captions, then read back from the asset."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"vocabulary must start with {SPECIALS}, got {tuple(tokens[:3])}")
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}
        if len(self.ids) != len(self.tokens):
            raise ValueError("vocabulary has duplicate tokens")

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 1) -> "Vocabulary":
        """Words seen at least `min_count` times, most frequent first (ties alphabetical: deterministic)."""
        counts = Counter(w for c in captions for w in words(c))
        kept = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls([*SPECIALS, *kept])

    def to_text(self) -> str:
        return "\n".join(self.tokens) + "\n"

    @classmethod
    def from_text(cls, text: str) -> "Vocabulary":
        return cls(text.splitlines())

    @classmethod
    def load(cls, path: Path) -> "Vocabulary":
        return cls.from_text(Path(path).read_text(encoding="utf-8"))

    def encode(self, caption: str, max_tokens: int = MAX_TOKENS) -> Encoded:
        """Ids for one caption (END appended). Raises CaptionError when it has no words or too many."""
        toks = words(caption)
        if not toks:
            raise CaptionError("caption has no words: send an English sentence, e.g. 'this flower has red petals'")
        if len(toks) > max_tokens:
            raise CaptionError(f"caption has {len(toks)} words; at most {max_tokens} are accepted")
        ids = [self.ids.get(t, UNK_ID) for t in toks]
        unknown = list(dict.fromkeys(t for t, i in zip(toks, ids) if i == UNK_ID))
        return Encoded(ids=[*ids, END_ID], tokens=toks, unknown=unknown)

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids if i not in (PAD_ID, END_ID)]


def pad_batch(id_lists: Sequence[Sequence[int]], length: int | None = None) -> np.ndarray:
    """int64 [B, L] with PAD_ID (0) after each caption: the servable's `caption_ids` input."""
    length = length or max(len(x) for x in id_lists)
    out = np.full((len(id_lists), length), PAD_ID, dtype=np.int64)
    for row, ids in enumerate(id_lists):
        out[row, : len(ids)] = ids[:length]
    return out


def images_to_uint8(images: np.ndarray) -> np.ndarray:
    """The generator's [-1, 1] float images -> uint8 RGB, rounded: the one conversion used by the gateway's
    PNGs and by the training-side evaluation, so both judge exactly the same pixels."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)
