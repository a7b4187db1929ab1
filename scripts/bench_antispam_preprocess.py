"""Gateway-side anti-spam preprocessing cost per message, stage by stage, in process (no server).

The stages are the ones the gateway's family runs for every message (`common.text_zh`): normalisation
(NFKC, lower case, character table, and whatever rewriting the current policy does), jieba segmentation,
and vocabulary encode + vector lookup. Messages are the held-out split of the corpus, raw (re-joined).
Rounds alternate over the same messages; the figure is the median over rounds of the mean per message.

    flock /tmp/cpu.lock python scripts/bench_antispam_preprocess.py --rounds 7 --out /tmp/pre.json

Run it on two commits (before/after a change) and compare the JSON side by side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import text_zh as tz  # noqa: E402
from training.antispam.data import load_corpus  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--n", type=int, default=1000, help="held-out messages per round")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    corpus = load_corpus()
    idx = corpus.indices("test")[: args.n]
    texts = [corpus.texts[i] for i in idx]
    policy = tz.TextPolicy()
    seg = tz.get_segmenter()
    normalised = [tz.normalize(t, policy) for t in texts]  # warm the character table and jieba
    tokens = [tz.tokenize(t, policy, seg) for t in texts]
    vocab, _ = tz.Vocabulary.build(tokens, 2)
    vectors = tz.l2_normalize(np.random.default_rng(0).standard_normal((len(vocab), 200)).astype(np.float32))
    rounds: dict[str, list[float]] = {"normalise": [], "jieba": [], "lookup": [], "total": []}
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        normalised = [tz.normalize(t, policy) for t in texts]
        t1 = time.perf_counter()
        tokens = [tz.tokenize(t, policy, seg) for t in texts]  # normalise + jieba, as the gateway calls it
        t2 = time.perf_counter()
        for tok in tokens:
            tz.lookup_batch([vocab.encode(tok)], vectors)
        t3 = time.perf_counter()
        n = len(texts)
        rounds["normalise"].append((t1 - t0) / n * 1e6)
        rounds["jieba"].append(((t2 - t1) - (t1 - t0)) / n * 1e6)
        rounds["lookup"].append((t3 - t2) / n * 1e6)
        rounds["total"].append((t3 - t1) / n * 1e6)
    report = {
        "messages": len(texts),
        "rounds": args.rounds,
        "policy": policy.as_dict(),
        "us_per_message_median_of_rounds": {k: round(statistics.median(v), 1) for k, v in rounds.items()},
        "us_per_message_min_of_rounds": {k: round(min(v), 1) for k, v in rounds.items()},
        "tokens_per_message_mean": round(float(np.mean([len(t) for t in tokens])), 2),
        "chars_per_message_mean": round(float(np.mean([len(t) for t in normalised])), 1),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
