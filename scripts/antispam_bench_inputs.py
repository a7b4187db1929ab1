"""Held-out anti-spam messages as a `--inputs-file` for `servectl bench` and `servectl bench-suite`.

The benchmarks' default input is the family's one example message. Real traffic is varied: messages of
different lengths, with different shares of words that jieba's HMM has to segment. This writes messages of
the `test` part of the fixed split (the split training used: `training.antispam.data.load_corpus`, default
seed and fractions) as raw text, one `{"text": ...}` per line, spam and normal messages shuffled together
with a fixed seed.

    python scripts/antispam_bench_inputs.py --out /tmp/antispam-heldout.jsonl --n 500
    servectl bench-suite --model antispam --inputs-file /tmp/antispam-heldout.jsonl ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.antispam.data import load_corpus  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON Lines file to write")
    parser.add_argument("--n", type=int, default=500, help="messages to write (at most the test part's size)")
    parser.add_argument("--data", type=Path, default=None, help="corpus directory (default: the repository's data/text-antispam)")
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    corpus = load_corpus(args.data)
    held_out = corpus.indices("test")
    chosen = np.random.default_rng(args.seed).permutation(held_out)[: args.n]
    lines = [json.dumps({"text": corpus.texts[i]}, ensure_ascii=False) for i in chosen]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    lengths = [len(corpus.texts[i]) for i in chosen]
    spam = int(np.sum(corpus.labels[chosen] == 0))
    print(f"wrote {len(lines)} held-out messages to {args.out} ({spam} spam); characters per message: "
          f"median {int(np.median(lengths))}, max {max(lengths)}")


if __name__ == "__main__":
    main()
