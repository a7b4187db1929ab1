"""training/antispam/evaluate.py: metrics, the robustness suite (perturbations, robust floor) and the challenge set."""

from __future__ import annotations

import numpy as np

from training.antispam.evaluate import (CHALLENGE_FILE, FLOOR, PASS, SPAM, add_punctuation, classification_metrics,
                                        held_out_probes, length_matched_subset, load_challenge, mask_all_digits,
                                        robustness_suite, robustness_variants, strip_punctuation)


def test_metrics_from_known_confusion() -> None:
    labels = np.array([0, 0, 0, 1, 1])  # 0 = spam
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]])
    m = classification_metrics(labels, probs)
    assert m["confusion_matrix"]["matrix"] == [[2, 1], [1, 1]]
    assert m["accuracy"] == 0.6
    assert m["spam_precision"] == round(2 / 3, 5) and m["spam_recall"] == round(2 / 3, 5)


def test_variants_remove_each_shortcut() -> None:
    seg = ["详询 xxxxxxxxxxx ， 优惠 ！", "我 30 岁 了"]
    v = robustness_variants(seg, seed=1)
    assert v["punctuation_stripped"] == ["详询xxxxxxxxxxx优惠", "我30岁了"]
    raw = v["digits_written_out"][0]
    assert raw.startswith("详询") and sum(ch.isdigit() for ch in raw) == 11 and "x" not in raw
    assert v["digits_masked_everywhere"][1] == "我xx岁了"
    assert v["spaces_kept"] == seg
    assert strip_punctuation("a，b“c”") == "abc" and mask_all_digits("１2") == "xx"


def test_punctuation_added_as_people_type() -> None:
    rng = np.random.default_rng(0)
    out = add_punctuation("明天 上午 十点 开会 记得 带 电脑", rng)
    assert out.count("，") == 1 and out.endswith("。") and out.replace("，", "").rstrip("。") == "明天上午十点开会记得带电脑"
    assert not out.startswith("，") and "，。" not in out
    assert add_punctuation("你 吃饭 了 吗", rng).endswith("？")
    assert add_punctuation("好 的 ！", rng).endswith("！") and add_punctuation("好 的 ！", rng).count("！") == 1


def test_length_matched_subset_has_equal_length_distributions() -> None:
    seg = ["a " * 30] * 20 + ["a b"] * 30 + ["a " * 12] * 10 + ["a " * 13] * 4
    seg = [s.strip() for s in seg]
    labels = np.array([SPAM] * 20 + [PASS] * 30 + [SPAM] * 10 + [PASS] * 4)
    idx = length_matched_subset(seg, labels)
    lengths = np.array([len(seg[i].split(" ")) for i in idx]) // 5
    for b in np.unique(lengths):
        sel = idx[lengths == b]
        assert (labels[sel] == SPAM).sum() == (labels[sel] == PASS).sum()
    assert len(idx) == 8  # only the 10..14-token bin has both classes: 4 of each


def test_probes_score_each_perturbation_on_the_class_it_targets() -> None:
    seg = ["详询 xxxxxxxxxxx ， 优惠 ！", "我 30 岁 了", "明天 见", "全场 x 折 ， 详询 xxxx"]
    labels = np.array([SPAM, PASS, PASS, SPAM])
    probes = {p.name: p for p in held_out_probes(seg, labels)}
    assert probes["punctuation_added"].metric == "pass_recall" and set(probes["punctuation_added"].labels) == {PASS}
    assert probes["digits_written_out"].metric == "spam_recall" and set(probes["digits_written_out"].labels) == {SPAM}
    assert all("x" not in t for t in probes["digits_written_out"].texts)


def test_robust_floor_is_the_minimum_of_the_perturbations() -> None:
    seg = ["详询 xxxxxxxxxxx ， 优惠 ！", "我 30 岁 了", "明天 见 吧", "全场 x 折 ， 详询 xxxx"]
    labels = np.array([SPAM, PASS, PASS, SPAM])

    def everything_is_spam(texts: list[str]) -> np.ndarray:
        return np.tile([0.9, 0.1], (len(texts), 1))

    suite = robustness_suite(everything_is_spam, seg, labels)
    p = suite["perturbations"]
    assert p["digits_written_out"]["value"] == 1.0 and p["punctuation_added"]["value"] == 0.0
    assert suite["robust_floor"] == min(p[k]["value"] for k in FLOOR if p[k]["value"] is not None) == 0.0
    c = suite["challenge"]
    assert c["spam_recall"] == 1.0 and c["pass_recall"] == 0.0 and len(c["wrong"]) == int(round(c["n"] * (1 - c["accuracy"])))


def test_challenge_set_is_at_least_150_everyday_messages_of_both_classes() -> None:
    texts, labels, kinds = load_challenge()
    assert len(texts) >= 150 and len(set(texts)) == len(texts)
    assert (labels == SPAM).sum() >= 60 and (labels == PASS).sum() >= 60
    assert {"chat", "family", "work", "notice", "shopping"} <= set(kinds)
    assert {"parcel", "loan", "gambling", "job", "phishing", "invoice"} <= set(kinds)
    assert (CHALLENGE_FILE.parent / "README.md").is_file()  # the note on how it was written
    corpus_lines = set()
    from training.antispam.data import default_data_dir
    for name in ("msgspam.log.seg", "msgpass.log.seg"):
        corpus_lines |= {ln.replace(" ", "") for ln in (default_data_dir() / name).read_text(encoding="utf-8").splitlines()}
    assert not [t for t in texts if t in corpus_lines]  # written, not copied from the corpus
