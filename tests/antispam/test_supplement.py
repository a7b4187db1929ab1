"""The supplementary training messages: reproducible from their generator, and never a near copy of a
challenge-set message (the challenge figure must not be bought by training on it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from training.antispam.data import PASS, SPAM
from training.antispam.evaluate import load_challenge
from training.antispam.supplement import SUPPLEMENT_FILE, load_supplement, near_copies, too_close
from training.antispam.train import resolve_preset

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_no_supplementary_line_is_close_to_a_challenge_message() -> None:
    challenge, _, _ = load_challenge()
    close = near_copies(load_supplement().texts, challenge)
    assert not close, close[:5]


def test_too_close_catches_near_copies_only() -> None:
    a = "您尾号1234的卡消费支出人民币56.00元，余额789元"
    assert too_close(a, a.replace("1234", "9876"))  # only the numbers differ
    assert too_close("加我微信领取免费福利红包吧", "加我微信领取免费福利红包")  # one character more
    assert not too_close("明天一起去吃火锅吧", "今天的会议改到下午三点")
    assert not too_close("如有疑问", "如有疑问请致电")  # short common phrases are not copies


def test_both_classes_and_every_line_labelled() -> None:
    sup = load_supplement()
    assert len(sup.texts) == len(sup.labels) == len(sup.kinds) > 300
    assert (sup.labels == PASS).sum() > 100 and (sup.labels == SPAM).sum() > 100
    assert len(set(sup.texts)) == len(sup.texts) and all(t.strip() for t in sup.texts)
    rec = sup.record()
    assert rec["file"] == "training/antispam/supplementary/messages.tsv" and rec["sha256"].startswith("sha256:")
    assert rec["pass"] + rec["spam"] == rec["lines"]


def test_file_is_the_generators_output(tmp_path: Path) -> None:
    out = tmp_path / "messages.tsv"
    subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "gen_antispam_supplement.py"), "--out", str(out)],
                   check=True, capture_output=True)
    assert out.read_bytes() == SUPPLEMENT_FILE.read_bytes()


def test_supplement_switch() -> None:
    assert resolve_preset("tiny", {"supplement": "false"}).supplement is False
    assert resolve_preset("tiny", {"supplement": "true"}).supplement is True
