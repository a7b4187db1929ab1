"""common/text_zh.py: the one text pipeline shared by training and the gateway."""

from __future__ import annotations

import numpy as np
import pytest

from common import text_zh
from common.text_zh import (NUM, UNK, UNK_ID, TextPolicy, Vocabulary, apply_oov, get_segmenter, is_blank, l2_normalize,
                             lookup_batch, model_tokens, normalize, split_unknown, tokenize)


V1 = TextPolicy.from_dict({"digits": "mask", "punctuation": "keep"})  # a manifest written before policy version 2


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
def test_version_1_policy_reads_text_as_before(raw: str, expected: str) -> None:
    assert V1.version == 1 and V1.links is False
    assert normalize(raw, V1) == expected


@pytest.mark.parametrize(
    ("raw", "tokens"),
    [
        ("加我微信xxxxx有福利", ["加", "我", "微信", "<num_long>", "有", "福利"]),  # the book's example
        ("详询13912345678", ["详询", "<num_long>"]),
        ("详询xxxxxxxxxxx", ["详询", "<num_long>"]),  # the corpus's mask = real digits
        ("QQxxxxxxxxxx", ["qq", "<num_long>"]),
        ("138xxxx1234", ["<num_long>"]),  # partly masked
        ("x月x日", ["<num>", "月", "<num>", "日"]),
        ("3月5日", ["<num>", "月", "<num>", "日"]),
        ("next xbox iphonex", ["next", "xbox", "iphonex"]),  # x as a letter stays a letter
        ("4g xg", ["<num>", "g", "<num>", "g"]),  # the corpus masks 4G as xG
        ("打开 www.abc-bet.com 注册", ["打开", "<url>", "注册"]),
        ("点击 http://t.cn/A6xYz 领取", ["点击", "<url>", "领取"]),
        ("邮箱 abc@qq.com", ["邮箱", "<email>"]),
        ("￥500元", ["¥", "<num>", "元"]),  # currency signs survive as tokens
        ("🎉恭喜😀", ["恭喜"]),  # emoji are symbols: boundaries
        ("ＷｅＣｈａｔ", ["wechat"]),
        ("vх", ["vx"]),  # Cyrillic look-alike
        ("微\u200b信", ["微信"]),
        ("\ue000", []),  # a private-use character in the input never becomes a placeholder
    ],
)
def test_default_policy_tokens(raw: str, tokens: list[str]) -> None:
    assert tokenize(raw) == tokens


def test_punctuation_and_masks_are_invisible_to_the_model() -> None:
    """The corpus's two character artefacts: a punctuated / unpunctuated message and a masked / written-out
    number give the same token stream."""
    assert tokenize("你好，请问这本书还有货吗？") == tokenize("你好请问这本书还有货吗")
    assert tokenize("明天上午十点开会，记得带电脑。") == tokenize("明天上午十点开会 记得带电脑")
    assert tokenize("【会员日】x月x日全场x折！详询xxxxxxxxxxx") == tokenize("会员日3月8日全场8折详询13912345678")
    assert tokenize("好的！！！……？？“”【】《》、，。；：") == ["好", "的"]
    assert tokenize("！？。，……") == []  # punctuation only: no token (the model reads one unknown token)


def test_blank_means_nothing_visible() -> None:
    for blank in ("\u0000" * 100, "\u200b\u200c\u200d\ufeff", " \t\u3000\n", "\u0001\u001f\u007f"):
        assert is_blank(blank) and is_blank(blank, V1)
    for text in ("!!!", "a", "\u0000好", "🎉"):
        assert not is_blank(text)


def test_policy_switches_are_honoured() -> None:
    keep = TextPolicy(digits="keep", punctuation="keep", links=False, lowercase=False)
    assert normalize("Tel：138！", keep) == "Tel:138!"
    assert tokenize("Tel：138！", TextPolicy(digits="mask", punctuation="keep")) == ["tel", ":", "xxx", "!"]
    assert "<url>" not in tokenize("www.abc.com", TextPolicy(links=False))


def test_policy_round_trips_through_manifest_dict() -> None:
    p = TextPolicy(digits="keep", hmm=False)
    assert TextPolicy.from_dict({**p.as_dict(), "future_field": 1}) == p
    assert TextPolicy.from_dict(TextPolicy().as_dict()) == TextPolicy()


def test_tokenize_never_returns_whitespace() -> None:
    toks = tokenize("  本店新品上市，全场八折优惠！！详询 13800138000。 ")
    assert toks and all(t.strip() == t and t for t in toks)
    assert "," not in toks and "!" not in toks and "<num_long>" in toks
    kept = tokenize("本店新品上市，全场八折优惠！！", V1)
    assert "," in kept and "!" in kept  # NFKC: ，！ -> , !
    assert tokenize("详询xxxxxxxxxxx", V1) == tokenize("详询13912345678", V1)


def test_jieba_initialised_once_per_process() -> None:
    first = get_segmenter()
    count = text_zh.INIT_COUNT
    for _ in range(5):
        assert get_segmenter() is first
        tokenize("今天天气不错")
    assert text_zh.INIT_COUNT == count


def _shipped_texts() -> list[str]:
    """Raw text of every corpus line, challenge message and supplementary message, read as training reads them."""
    from training.antispam.data import load_corpus
    from training.antispam.evaluate import load_challenge
    from training.antispam.supplement import load_supplement

    return load_corpus().texts + load_challenge()[0] + load_supplement().texts


@pytest.mark.parametrize("policy", [TextPolicy(), TextPolicy(hmm=False), TextPolicy(punctuation="keep", digits="keep"), V1], ids=["default", "no-hmm", "keep", "v1"])
def test_segmenter_gives_jiebas_tokens_on_every_shipped_text(policy: TextPolicy) -> None:
    """rjieba takes the texts without jieba's in-word symbols (common.text_zh.Segmenter): check, token for
    token against jieba itself, every corpus, challenge and supplementary text under each kind of policy."""
    seg = get_segmenter()
    texts = [text_zh.normalize(t, policy) for t in _shipped_texts()]
    fast = [t for t in texts if seg.uses_rjieba(t)]
    assert len(texts) > 16000 and len(fast) > 12000
    assert [t for t in fast if seg.cut(t, policy.hmm) != seg.cut_with_jieba(t, policy.hmm)] == []


def test_texts_with_jiebas_word_symbols_go_to_jieba() -> None:
    """jieba-rs keeps `8.2gb` whole; jieba splits it: such a text is segmented by jieba."""
    keep = TextPolicy(punctuation="keep", digits="keep")
    assert not get_segmenter().uses_rjieba("流量8.2gb") and get_segmenter().uses_rjieba("流量八十")
    assert tokenize("流量8.2gb", keep) == ["流量", "8.2", "gb"]


def test_user_dictionary_is_applied(tmp_path) -> None:
    word = "八折狂欢购"
    assert word not in tokenize(f"本周{word}开始")
    user_dict = tmp_path / "user.txt"
    user_dict.write_text(f"{word} 100000 n\n", encoding="utf-8")
    seg = get_segmenter(user_dict)
    assert seg is get_segmenter(user_dict) and seg is not get_segmenter()
    assert not seg.uses_rjieba("本周开始")  # rjieba loads user dictionaries differently
    assert word in tokenize(f"本周{word}开始", segmenter=seg)


def test_vocabulary_unknown_and_empty() -> None:
    vocab, counts = Vocabulary.build([["a", "b", "a"], ["a", "c", "b"]], min_count=2)
    assert vocab.tokens == [UNK, "a", "b"] and counts["c"] == 1
    assert vocab.encode(["a", "zzz", "b"]).tolist() == [1, UNK_ID, 2]
    assert vocab.encode([]).tolist() == [UNK_ID]  # a text is never empty for the model
    assert Vocabulary.from_text(vocab.to_text()).tokens == vocab.tokens
    with pytest.raises(ValueError):
        Vocabulary(["a", UNK])


def test_unknown_words_read_as_characters_only_when_the_policy_says_so() -> None:
    vocab, chars = Vocabulary([UNK, "招商", "鸿", "馆", NUM]), TextPolicy(oov="chars")
    # a known word stays, an unknown one becomes its characters (unknown characters among them read as <unk>),
    # a word none of whose characters is known stays one <unk>, placeholders are never split
    assert apply_oov(["招商", "鸿都馆", "乌鲁", NUM], vocab, chars) == ["招商", "鸿", "都", "馆", "乌鲁", NUM]
    assert vocab.encode(apply_oov(["鸿都馆"], vocab, chars)).tolist() == [2, UNK_ID, 3]
    assert apply_oov(["鸿都馆"], vocab, TextPolicy()) == ["鸿都馆"]  # oov="unk": one token, one <unk>
    assert apply_oov(["鸿馆"], Vocabulary.from_text(vocab.to_text()), chars) == ["鸿", "馆"]
    assert model_tokens("鸿都馆", chars, vocab) == apply_oov(tokenize("鸿都馆", chars), vocab, chars)  # raw text, same reading
    assert split_unknown(["ab", "c"], {"a"}) == ["a", "b", "c"]
    # characters, not known sub-words (measured better): the compound of two known words is read as characters
    assert split_unknown(["手机游戏"], {"手机", "游戏", "手"}) == ["手", "机", "游", "戏"]


def test_policies_written_before_the_oov_step_read_unknown_words_as_one_token() -> None:
    old = {k: v for k, v in TextPolicy().as_dict().items() if k != "oov"}
    assert TextPolicy.from_dict(old).oov == "unk"
    assert TextPolicy.from_dict({**old, "oov": "chars"}).oov == "chars"


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
