"""The anti-spam corpus: loading, the fixed split, and the token stream the gateway will produce.

Why re-join the lines: the corpus is pre-segmented (jieba, single spaces), but the gateway receives raw,
unsegmented text and segments it itself. Training on the corpus's own segmentation would teach the model
tokens the gateway never produces. So every line is re-joined (spaces removed, exactly as the end-to-end
evaluation sends it) and run through `common.text_zh.tokenize`, the same function the gateway calls.

Why split by hash: identical lines must land in the same part (the corpus has duplicates), and the split
must not change between runs or when a file is appended to. A line's part is a function of
sha256(seed + line) only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common import manifest as mf
from common.text_zh import Segmenter, TextPolicy, get_segmenter, tokenize
from training.datasets import DataNotFound, dataset_dir

PASS_FILE = "msgpass.log.seg"  # label 1 = pass
SPAM_FILE = "msgspam.log.seg"  # label 0 = spam
SPAM, PASS = 0, 1
LABEL_NAMES = ("spam", "pass")
DATA_ENV = "ANTISPAM_DATA_DIR"


def default_data_dir() -> Path:
    """`$ANTISPAM_DATA_DIR`, else `text-antispam/` under `training.datasets.data_root()` (the repository's
    `data/text-antispam`, committed with its PROVENANCE.md and LICENSE, or `$TRAIN_DATA_DIR`)."""
    return dataset_dir("text-antispam", DATA_ENV)


def join_segmented(line: str) -> str:
    """A pre-segmented corpus line as raw text: the spaces jieba put between tokens removed."""
    return line.strip().replace(" ", "")


@dataclass
class Corpus:
    """One row per non-empty line: the segmented line as stored, its raw (re-joined) text, label, part."""

    segmented: list[str]
    texts: list[str]
    labels: np.ndarray  # int64, 0 = spam, 1 = pass
    parts: np.ndarray  # "train" | "val" | "test"
    data_hash: str

    def indices(self, part: str) -> np.ndarray:
        return np.flatnonzero(self.parts == part)


def split_part(line: str, seed: int, val_fraction: float, test_fraction: float) -> str:
    h = int.from_bytes(hashlib.sha256(f"{seed}\n{line}".encode()).digest()[:8], "big") / 2**64
    if h < test_fraction:
        return "test"
    if h < test_fraction + val_fraction:
        return "val"
    return "train"


def load_corpus(
    data_dir: Path | None = None,
    *,
    seed: int = 20180101,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    limit: int | None = None,
) -> Corpus:
    """Read both files of `data_dir` (corpus format: one message per line). `limit` caps lines per file."""
    data_dir = Path(data_dir or default_data_dir())
    files = [(data_dir / SPAM_FILE, SPAM), (data_dir / PASS_FILE, PASS)]
    missing = [p.name for p, _ in files if not p.is_file()]
    if missing:
        raise DataNotFound(f"anti-spam corpus ({' and '.join(missing)}, one segmented message per line)", data_dir,
                           f"set it with --data DIR or ${DATA_ENV}")
    segmented, labels = [], []
    for path, label in files:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if limit is not None:
            lines = lines[:limit]
        segmented += lines
        labels += [label] * len(lines)
    parts = np.array([split_part(s, seed, val_fraction, test_fraction) for s in segmented])
    return Corpus(
        segmented=segmented,
        texts=[join_segmented(s) for s in segmented],
        labels=np.array(labels, dtype=np.int64),
        parts=parts,
        data_hash=mf.hash_files([p for p, _ in files]),
    )


def tokenize_all(texts: list[str], policy: TextPolicy, segmenter: Segmenter | None = None) -> list[list[str]]:
    """The gateway's token stream for each raw text."""
    seg = segmenter or get_segmenter()
    return [tokenize(t, policy, seg) for t in texts]
