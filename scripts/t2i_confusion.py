"""Which colours does an exported text2image version get wrong on held-out captions, and does the centre word
move the petals? Confusion matrices by the version's own judge, on the captions its manifest was scored on.

Why: the manifest's held-out petal figure is one number; split by whether the caption names the centre, it
showed that the petals of an unseen pair follow its centre word (docs/text2image.md, "Twelfth round").

    python scripts/t2i_confusion.py <repo>/text2image/<version>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(version_dir: Path) -> None:
    import keras
    import tensorflow as tf

    from common.captions import Vocabulary
    from training.text2image import evaluate as ev
    from training.text2image import flowers
    from training.text2image.presets import PRESETS

    extra = version_dir / "assets.extra"
    manifest = json.loads((extra / "manifest.json").read_text())
    hp = {k: str(v) for k, v in manifest["hyperparameters"].items() if k != "name" and k in PRESETS["tiny"].to_dict()}
    p = PRESETS[manifest["hyperparameters"]["name"]].with_options(**hp)
    split = flowers.make_split(p.n_train, p.n_val, p.n_test, p.seed)
    vocab = Vocabulary.load(extra / "caption_vocab.txt")
    judge = keras.models.load_model(extra / ev.JUDGE_ASSET)
    serve = tf.saved_model.load(str(version_dir)).signatures["serving_default"]

    def generate(ids: np.ndarray, z: np.ndarray) -> np.ndarray:
        return serve(caption_ids=tf.constant(ids), z=tf.constant(z))["images"].numpy()

    # the same captions, z and judge as train() scores the held-out figures with
    truth = ev.eval_captions(split.test, p.eval_captions, p.seed + 3)
    images = ev.generate_for_captions(generate, vocab, [t[0] for t in truth], p.z_dim, p.seed + 4)
    a = ev.colour_accuracy(images, truth, judge)  # the manifest's held-out figures, recomputed
    named = a["captions_naming_centre"]
    print(f"held-out petal {a['petal_colour_accuracy']:.3f}, centre {a['centre_colour_accuracy']:.3f}")
    print(f"petal when the caption names the centre {a['petal_colour_accuracy_naming_centre']:.3f} (n={named}), "
          f"when not {a['petal_colour_accuracy_not_naming_centre']:.3f} (n={a['captions'] - named})")
    petal_pred, centre_pred = ev.judge_predict(judge, images)
    petal = np.array([t[1] for t in truth])
    centre = np.array([-1 if t[2] is None else t[2] for t in truth])
    for title, names, true, pred in (("petal", flowers.PETAL_NAMES, petal, petal_pred), ("centre", flowers.CENTRE_NAMES, centre, centre_pred)):
        print(f"{title} confusion, rows = caption's colour, columns = judged: {' '.join(n[:6] for n in names)}")
        for i, name in enumerate(names):
            row = [int(np.sum((true == i) & (pred == j))) for j in range(len(names))]
            print(f"  {name:7s} {' '.join(f'{n:6d}' for n in row)}   {row[i] / max(1, sum(row)):.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
