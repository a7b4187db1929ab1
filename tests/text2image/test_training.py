"""The whole training job for a few steps (slow: traces the GAN-CLS training graph, minutes on a loaded CPU):
data -> encoders -> GAN -> held-out evaluation -> publish, with every metric in the manifest."""

from __future__ import annotations

import pytest

from common.manifest import assets_dir, read_manifest


@pytest.mark.slow
def test_train_publishes_a_version_with_metrics(tmp_path) -> None:
    from training.registry import train

    published = train(
        "text2image", preset="tiny", repo=tmp_path / "repo",
        n_train=64, n_val=16, n_test=28, encoder_steps=2, gan_steps=2, judge_epochs=1, judge_images=28, eval_captions=20, batch=16,
    )
    manifest = read_manifest(published.path)
    m = manifest["metrics"]
    for key in ("petal_colour_accuracy", "centre_colour_accuracy", "captions"):
        assert key in m["held_out"]
    assert 0.0 <= m["held_out"]["petal_colour_accuracy_histogram_judge"] <= 1.0
    h = m["held_out"]  # the petal figure split by whether the caption names the centre: the two parts make the whole
    named = h["captions_naming_centre"]
    whole = (named * h["petal_colour_accuracy_naming_centre"] + (h["captions"] - named) * h["petal_colour_accuracy_not_naming_centre"]) / h["captions"]
    assert whole == pytest.approx(h["petal_colour_accuracy"])
    for key in ("diversity_l1_generated", "retrieval_r1", "retrieval_r5", "judge_real_test_petal_accuracy", "histogram_judge_real_test_petal_accuracy"):
        assert 0.0 <= m[key] <= 1.0
    assert set(m["final_losses"]) == {"encoder_hinge", "d", "g", "match", "mode_seeking", "colour"}
    assert m["diversity_ratio"] > 0 and m["frechet_judge_real_floor"] > 0 and m["frechet_judge_generated"] > 0
    assert m["frechet_judge_ratio"] == m["frechet_judge_generated"] / m["frechet_judge_real_floor"]
    assert manifest["preprocessing"]["z_dim"] == 16 and manifest["data"]["n_test"] == 28
    assert (assets_dir(published.path) / "caption_vocab.txt").read_text().startswith("<PAD>\n<UNK>\n<END>\n")
    assert (assets_dir(published.path) / "attribute_classifier.keras").exists()


def test_hard_negatives_differ_from_the_right_caption_in_one_colour_word() -> None:
    """hard_negatives=1: every wrong caption is the right one with one colour word replaced by another colour."""
    from common.captions import Vocabulary
    from training.text2image import flowers
    from training.text2image.loop import Batches

    data = flowers.generate(24, 3, held_out=False)
    vocab = Vocabulary.build(c for caps in data.captions for c in caps)
    colours = {vocab.encode(c).ids[0] for c in (*flowers.PETAL_NAMES, *flowers.CENTRE_NAMES)}
    for share, expect_all in ((1.0, True), (0.0, False)):
        _, right, wrong, _ = Batches(data, vocab, 8, seed=5, hard_negatives=share).next()
        one_swap = [(r != w).sum() == 1 and {r[r != w][0], w[r != w][0]} <= colours for r, w in zip(right, wrong)]
        assert all(one_swap) if expect_all else not any(one_swap)
