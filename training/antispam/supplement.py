"""Supplementary labelled training messages for anti-spam (`supplementary/messages.tsv`), train part only.

Why: the book's corpus has no legitimate automated notices (bank card movements, verification codes, parcel,
train and bill notices) and almost none of today's scam vocabulary (刷单, 时时彩, ETC认证, phishing links); a
model cannot learn what it never sees. The file is written by hand as templates with slots
(`scripts/gen_antispam_supplement.py`, provenance in `supplementary/README.md`). It only ever joins the
**training** part (word2vec and classifier); validation and held-out stay corpus-only, so the corpus figures
remain comparable with every earlier version. `--set supplement=false` switches it off; the manifest records
file, line counts and sha256.

`too_close` is the guard against leaking the challenge set into training: no supplementary line may share
a long substring with, or be within a small edit distance of, a challenge message (tested).
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

from training.antispam.data import PASS, SPAM
from training.datasets import REPO_ROOT

SUPPLEMENT_FILE = Path(__file__).resolve().parent / "supplementary" / "messages.tsv"
MAX_SHARED_CHARS = 10  # a common substring of this many characters (digits folded) counts as a near copy
MAX_EDIT_RATIO = 0.35  # edit distance below this share of the longer text counts as a near copy


@dataclass(frozen=True)
class Supplement:
    texts: list[str]
    labels: np.ndarray  # int64, 0 = spam, 1 = pass
    kinds: list[str]
    path: Path
    sha256: str

    def record(self) -> dict:
        """What the manifest says about the file (where, how many of each class, which bytes)."""
        path = self.path.resolve()
        return {"file": str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path),
                "lines": len(self.texts), "pass": int((self.labels == PASS).sum()),
                "spam": int((self.labels == SPAM).sum()), "sha256": self.sha256, "used_in": "train part only"}


def load_supplement(path: Path = SUPPLEMENT_FILE) -> Supplement:
    """Rows `label<TAB>kind<TAB>text` after a header; raw text, as a user would type it."""
    raw = path.read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    names = {"spam": SPAM, "pass": PASS}
    return Supplement(texts=[r["text"] for r in rows], labels=np.array([names[r["label"]] for r in rows], np.int64),
                      kinds=[r["kind"] for r in rows], path=path, sha256="sha256:" + hashlib.sha256(raw).hexdigest())


def _fold(text: str) -> str:
    """Each digit run folded to one `0`: two messages differing only in their numbers compare equal, and a phone
    number is not eleven shared characters."""
    return re.sub(r"[0-9]+", "0", text)


def shingles(text: str, n: int = MAX_SHARED_CHARS) -> set[str]:
    """Every substring of `n` characters (of the digit-folded text)."""
    f = _fold(text)
    return {f[i : i + n] for i in range(len(f) - n + 1)}


def _close_by_edits(fa: str, fb: str) -> bool:
    limit = MAX_EDIT_RATIO * max(len(fa), len(fb), 1)
    return Levenshtein.distance(fa, fb) < limit


def too_close(a: str, b: str) -> bool:
    """True when `a` is a near copy of `b`: a shared substring of MAX_SHARED_CHARS characters, or an edit
    distance below MAX_EDIT_RATIO of the longer text (digit runs folded)."""
    if shingles(a) & shingles(b):
        return True
    return _close_by_edits(_fold(a), _fold(b))


def near_copies(texts: list[str], references: list[str]) -> list[tuple[str, str]]:
    """(text, reference) pairs with `too_close`; the substring test uses one set of all reference shingles."""
    ref_shingles = {sh: r for r in references for sh in shingles(r)}
    out = []
    for t in texts:
        hit = next((ref_shingles[sh] for sh in shingles(t) if sh in ref_shingles), None)
        if hit is None:
            ft = _fold(t)
            hit = next((r for r in references if _close_by_edits(ft, _fold(r))), None)
        if hit is not None:
            out.append((t, hit))
    return out
