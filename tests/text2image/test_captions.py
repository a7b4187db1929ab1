"""common/captions.py: the one caption tokeniser of training and gateway."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from common.captions import END_ID, PAD_ID, UNK_ID, CaptionError, Vocabulary, images_to_uint8, pad_batch, words

VOCAB = Vocabulary.build(["The petals on this flower are white, with a yellow center.", "a red flower"])


def test_words_lower_case_and_punctuation_to_spaces() -> None:
    assert words("The PETALS,on this flower-are white!!  (yellow) center.") == [
        "the", "petals", "on", "this", "flower", "are", "white", "yellow", "center"
    ]
    assert words("  ...  ") == []


def test_vocabulary_specials_and_frequency_order() -> None:
    assert VOCAB.tokens[:3] == ["<PAD>", "<UNK>", "<END>"]
    assert VOCAB.tokens[3] in ("a", "flower")  # seen twice: most frequent first
    assert VOCAB.ids["<PAD>"] == PAD_ID == 0


def test_encode_appends_end_and_maps_unknown() -> None:
    enc = VOCAB.encode("A purple flower, purple!")
    assert enc.ids[-1] == END_ID
    assert enc.ids[:-1] == [VOCAB.ids["a"], UNK_ID, VOCAB.ids["flower"], UNK_ID]
    assert enc.tokens == ["a", "purple", "flower", "purple"]
    assert enc.unknown == ["purple"]
    assert enc.known_count == 2
    assert PAD_ID not in enc.ids


def test_empty_and_too_long_captions_are_refused() -> None:
    with pytest.raises(CaptionError, match="no words"):
        VOCAB.encode(" ,. ")
    VOCAB.encode(" ".join(["red"] * 50))
    with pytest.raises(CaptionError, match="51 words; at most 50"):
        VOCAB.encode(" ".join(["red"] * 51))


def test_asset_round_trip() -> None:
    again = Vocabulary.from_text(VOCAB.to_text())
    assert again.tokens == VOCAB.tokens
    with pytest.raises(ValueError):
        Vocabulary.from_text("red\nflower\n")


def test_pad_batch_zero_pads_int64() -> None:
    out = pad_batch([[5, 2], [7, 8, 9, 2]])
    assert out.dtype == np.int64 and out.tolist() == [[5, 2, 0, 0], [7, 8, 9, 2]]


def test_images_to_uint8_range() -> None:
    out = images_to_uint8(np.array([-2.0, -1.0, 0.0, 1.0, 3.0], np.float32))
    assert out.tolist() == [0, 0, 128, 255, 255]


@given(st.text(max_size=200))
def test_encode_never_emits_padding(text: str) -> None:
    try:
        enc = VOCAB.encode(text)
    except CaptionError:
        return
    assert enc.ids[-1] == END_ID and PAD_ID not in enc.ids and len(enc.ids) == len(enc.tokens) + 1
