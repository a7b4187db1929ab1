"""One text2image version for the export, family and gateway tests, made in seconds: the real networks and the
real export path (`training.export.publish`), randomly initialised with a fixed seed instead of trained
(training is covered by the slow test and by the acceptance run in docs/text2image.md). The vocabulary is
built from real procedural captions, so tokenisation is exercised as in production."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

Z_DIM = 8


def publish_untrained(repo: Path, seed: int = 3) -> Path:
    import keras

    from common import manifest as mf
    from common.captions import MAX_TOKENS, VOCAB_ASSET, Vocabulary, pad_batch
    from training.export import ExportSpec, publish
    from training.text2image import flowers
    from training.text2image.model import ModelConfig, build_generator, build_text_encoder
    from training.text2image.serving import Text2ImageModule, write_savedmodel

    data = flowers.generate(40, seed, held_out=False)
    vocab = Vocabulary.build(c for caps in data.captions for c in caps)
    keras.utils.set_random_seed(seed)
    cfg = ModelConfig(vocab_size=len(vocab), embed_dim=8, text_dim=16, code_dim=8, z_dim=Z_DIM, gf_dim=4, df_dim=4)
    module = Text2ImageModule(build_text_encoder(cfg), build_generator(cfg), Z_DIM)
    ids = pad_batch([vocab.encode(data.captions[0][0]).ids])
    published = publish(
        ExportSpec(
            model="text2image",
            family="text2image",
            preset="test-untrained",
            write_savedmodel=lambda d: write_savedmodel(module, d),
            warmup_inputs={"caption_ids": ids, "z": np.zeros((1, Z_DIM), np.float32)},
            training_data_hash=data.digest(),
            preprocessing={"vocabulary_asset": VOCAB_ASSET, "max_tokens": MAX_TOKENS, "z_dim": Z_DIM},
            assets={VOCAB_ASSET: vocab.to_text().encode()},
            extra={"signatures_extra": ["interpolate"]},
        ),
        repo,
    )
    assert mf.read_manifest(published.path)["family"] == "text2image"
    return published.path


@pytest.fixture(scope="session")
def t2i_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("t2i") / "repo"
    publish_untrained(repo)
    return repo


@pytest.fixture(scope="session")
def t2i_version(t2i_repo: Path) -> Path:
    return t2i_repo / "text2image" / "1"


@pytest.fixture(scope="session")
def loaded(t2i_version: Path):
    import tensorflow as tf

    return tf.saved_model.load(str(t2i_version))


@pytest.fixture(scope="session")
def family_assets(t2i_version: Path):
    from common.manifest import read_manifest
    from gateway.core.config import Settings
    from gateway.families.text2image import Text2ImageFamily

    fam = Text2ImageFamily()
    return fam, fam.load_assets(t2i_version, read_manifest(t2i_version), Settings())


@pytest.fixture(scope="session")
def run_family(loaded, family_assets):
    """The family unit end to end in-process: preprocess -> the exported signature -> postprocess."""
    import tensorflow as tf

    fam, assets = family_assets

    def run(**inputs):
        parsed = fam.Inputs(**inputs)
        prepared = fam.preprocess(parsed, assets)
        fn = loaded.signatures[fam.signature_name(parsed)]
        outputs = {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in prepared.arrays.items()}).items()}
        return fam.postprocess(outputs, assets, parsed, prepared.context)

    return run
