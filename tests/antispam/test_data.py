"""training/antispam/data.py: corpus format, the fixed split, the gateway's token stream."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.antispam import data


def _write(d: Path, spam: list[str], ham: list[str]) -> Path:
    (d / data.SPAM_FILE).write_text("\n".join(spam) + "\n", encoding="utf-8")
    (d / data.PASS_FILE).write_text("\n".join(ham) + "\n", encoding="utf-8")
    return d


def test_load_corpus_joins_lines_and_labels(tmp_path: Path) -> None:
    d = _write(tmp_path, ["全场 八折 ， 详询 xxxxxxxxxxx", ""], ["好 的 明天 见"])
    c = data.load_corpus(d)
    assert c.texts == ["全场八折，详询xxxxxxxxxxx", "好的明天见"]  # spaces removed, blank lines dropped
    assert c.labels.tolist() == [data.SPAM, data.PASS]
    assert c.data_hash.startswith("sha256:")


def test_split_is_fixed_and_keeps_duplicates_together(tmp_path: Path) -> None:
    lines = [f"消息 {i}" for i in range(400)] + ["重复 的 消息"] * 5
    d = _write(tmp_path, lines, lines[:50])
    a, b = data.load_corpus(d), data.load_corpus(d)
    assert (a.parts == b.parts).all()
    dup = [p for s, p in zip(a.segmented, a.parts) if s == "重复 的 消息"]
    assert len(set(dup)) == 1
    share = {p: float(np.mean(a.parts == p)) for p in ("train", "val", "test")}
    assert 0.6 < share["train"] < 0.95 and share["val"] > 0.03 and share["test"] > 0.03
    assert (data.load_corpus(d, seed=1).parts != a.parts).any()


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=data.SPAM_FILE) as err:
        data.load_corpus(tmp_path)
    msg = str(err.value)
    assert str(tmp_path) in msg and "--data" in msg and data.DATA_ENV in msg and "\n" not in msg


def test_default_data_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    assert data.default_data_dir() == tmp_path
    monkeypatch.delenv(data.DATA_ENV)
    monkeypatch.delenv("TRAIN_DATA_DIR", raising=False)
    repo = Path(__file__).resolve().parents[2]
    assert data.default_data_dir() == repo / "data" / "text-antispam"
    assert (data.default_data_dir() / data.SPAM_FILE).is_file()  # committed in the repository
