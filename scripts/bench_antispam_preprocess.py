"""Gateway-side anti-spam preprocessing cost per message, stage by stage, in process (no server).

The stages are the ones the gateway's family runs for every message (`common.text_zh`): normalisation
(NFKC, lower case, character table, and whatever rewriting the current policy does), jieba segmentation,
and the unknown-word reading (`apply_oov`, characters under the tiny preset's `oov="chars"`) + vocabulary
encode + vector lookup. Messages are the held-out split of the corpus, raw (re-joined).
Rounds alternate over the same messages; the figure is the median over rounds of the mean per message.

    flock /tmp/cpu.lock python scripts/bench_antispam_preprocess.py --rounds 7 --out /tmp/pre.json

`--before PATH` loads another copy of `common/text_zh.py` (e.g. `git show <commit>:common/text_zh.py >
/tmp/text_zh_before.py`) and alternates rounds between the two, so both are measured under the same load:

    git show 4233242:common/text_zh.py > /tmp/text_zh_before.py
    flock /tmp/cpu.lock python scripts/bench_antispam_preprocess.py --before /tmp/text_zh_before.py
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import text_zh as tz  # noqa: E402
from training.antispam.data import load_corpus  # noqa: E402


def load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"text_zh_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


class Pipeline:
    """One text_zh implementation with the tiny preset's policy (as far as that copy knows it: an older copy has no
    `oov`), a warm segmenter and a vocabulary of its own tokens."""

    def __init__(self, tz, texts: list[str]) -> None:
        self.tz, self.texts = tz, texts
        fields = tz.TextPolicy.__dataclass_fields__
        self.policy = tz.TextPolicy(oov="chars") if "oov" in fields else tz.TextPolicy()
        self.read_unknown = getattr(tz, "apply_oov", None)
        self.seg = tz.get_segmenter()
        tokens = [tz.tokenize(t, self.policy, self.seg) for t in texts]  # warm the tables and jieba
        self.vocab, _ = tz.Vocabulary.build(tokens, 2)
        self.vectors = tz.l2_normalize(np.random.default_rng(0).standard_normal((len(self.vocab), 200)).astype(np.float32))
        self.tokens_mean = float(np.mean([len(t) for t in tokens]))
        self.rounds: dict[str, list[float]] = {"normalise": [], "jieba": [], "lookup": [], "total": []}

    def round(self) -> None:
        tz, texts, policy, seg = self.tz, self.texts, self.policy, self.seg
        t0 = time.perf_counter()
        for t in texts:
            tz.normalize(t, policy)
        t1 = time.perf_counter()
        tokens = [tz.tokenize(t, policy, seg) for t in texts]  # normalise + jieba, as the gateway calls it
        t2 = time.perf_counter()
        for tok in tokens:
            if self.read_unknown is not None:
                tok = self.read_unknown(tok, self.vocab, policy)
            tz.lookup_batch([self.vocab.encode(tok)], self.vectors)
        t3 = time.perf_counter()
        n = len(texts)
        self.rounds["normalise"].append((t1 - t0) / n * 1e6)
        self.rounds["jieba"].append(((t2 - t1) - (t1 - t0)) / n * 1e6)
        self.rounds["lookup"].append((t3 - t2) / n * 1e6)
        self.rounds["total"].append((t3 - t1) / n * 1e6)

    def report(self) -> dict:
        return {
            "policy": self.policy.as_dict(),
            "us_per_message_median_of_rounds": {k: round(statistics.median(v), 1) for k, v in self.rounds.items()},
            "us_per_message_min_of_rounds": {k: round(min(v), 1) for k, v in self.rounds.items()},
            "tokens_per_message_mean": round(self.tokens_mean, 2),
        }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=1000, help="held-out messages per round")
    ap.add_argument("--before", type=Path, help="another copy of common/text_zh.py, measured in alternating rounds")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    corpus = load_corpus()
    texts = [corpus.texts[i] for i in corpus.indices("test")[: args.n]]
    pipelines = {"current": Pipeline(tz, texts)}
    if args.before:
        pipelines["before"] = Pipeline(load_module(args.before), texts)
    for _ in range(args.rounds):
        for p in pipelines.values():
            p.round()
    report = {"messages": len(texts), "rounds": args.rounds, **{k: p.report() for k, p in pipelines.items()}}
    if args.before:
        cur, bef = (pipelines[k].report()["us_per_message_median_of_rounds"] for k in ("current", "before"))
        report["ratio_current_over_before"] = {k: round(cur[k] / bef[k], 3) for k in cur}
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
