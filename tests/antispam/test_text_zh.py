"""common/text_zh.py: the one text pipeline shared by training and the gateway."""

from __future__ import annotations

import numpy as np
import pytest

from common import text_zh
from common.text_zh import UNK, UNK_ID, TextPolicy, Vocabulary, get_segmenter, l2_normalize, lookup_batch, normalize, tokenize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＷＥＣＨＡＴ", "wechat"),  # NFKC full-width -> ASCII, then lower case
        ("加ｖｘ：１２３", "加vx:xxx"),  # full-width letters, colon and digits -> ASCII; digits masked
        ("vх", "vx"),  # Cyrillic х looks like x
        ("微\u200b信", "微信"),  # zero-width space removed (spammers split words with it)
        ("①号", "x号"),  # circled digit -> 1 (NFKC) -> masked
        ("电话：13800138000！", "电话:xxxxxxxxxxx!"),
        ("a\tb\u3000c\nd", "a b c d"),  # every whitespace is a plain boundary
        ("〇", "x"),  # ideographic zero is a digit look-alike
    ],
)
def test_normalize_cases(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_policy_switches_are_honoured() -> None:
    keep = TextPolicy(digits="keep", lowercase=False)
    assert normalize("Tel：138！", keep) == "Tel:138!"
    assert normalize("Tel：138！") == "tel:xxx!"
    assert normalize("Tel：138！", TextPolicy(punctuation="drop")) == "tel xxx "


def test_policy_round_trips_through_manifest_dict() -> None:
    p = TextPolicy(digits="keep", hmm=False)
    assert TextPolicy.from_dict({**p.as_dict(), "future_field": 1}) == p


def test_tokenize_never_returns_whitespace() -> None:
    toks = tokenize("  本店新品上市，全场八折优惠！！详询 13800138000。 ")
    assert toks and all(t.strip() == t and t for t in toks)
    assert "," in toks and "!" in toks and "xxxxxxxxxxx" in toks  # NFKC: ，！ -> , !
    dropped = tokenize("本店新品上市，全场八折优惠！！", TextPolicy(punctuation="drop"))
    assert "," not in dropped and "!" not in dropped
    # the corpus's masked form and real digits give the same token stream
    assert tokenize("详询xxxxxxxxxxx") == tokenize("详询13912345678")


def test_jieba_initialised_once_per_process() -> None:
    first = get_segmenter()
    count = text_zh.INIT_COUNT
    for _ in range(5):
        assert get_segmenter() is first
        tokenize("今天天气不错")
    assert text_zh.INIT_COUNT == count


def test_user_dictionary_is_applied(tmp_path) -> None:
    word = "八折狂欢购"
    assert word not in tokenize(f"本周{word}开始")
    user_dict = tmp_path / "user.txt"
    user_dict.write_text(f"{word} 100000 n\n", encoding="utf-8")
    seg = get_segmenter(user_dict)
    assert seg is get_segmenter(user_dict) and seg is not get_segmenter()
    assert word in tokenize(f"本周{word}开始", segmenter=seg)


def test_vocabulary_unknown_and_empty() -> None:
    vocab, counts = Vocabulary.build([["a", "b", "a"], ["a", "c", "b"]], min_count=2)
    assert vocab.tokens == [UNK, "a", "b"] and counts["c"] == 1
    assert vocab.encode(["a", "zzz", "b"]).tolist() == [1, UNK_ID, 2]
    assert vocab.encode([]).tolist() == [UNK_ID]  # a text is never empty for the model
    assert Vocabulary.from_text(vocab.to_text()).tokens == vocab.tokens
    with pytest.raises(ValueError):
        Vocabulary(["a", UNK])


def test_lookup_batch_zero_pads_to_longest() -> None:
    vectors = l2_normalize(np.arange(1, 13, dtype=np.float32).reshape(4, 3))
    x = lookup_batch([np.array([1, 2]), np.array([3]), np.array([0, 1, 2, 3])], vectors)
    assert x.shape == (3, 4, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, :2], vectors[[1, 2]])
    np.testing.assert_array_equal(x[0, 2:], 0.0)
    np.testing.assert_array_equal(x[1, 0], vectors[3])
    np.testing.assert_array_equal(x[1, 1:], 0.0)
    np.testing.assert_array_equal(x[2], vectors[[0, 1, 2, 3]])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_zero_vector_refused() -> None:
    with pytest.raises(ValueError, match="zeros"):
        l2_normalize(np.array([[1.0, 0.0], [0.0, 0.0]]))
