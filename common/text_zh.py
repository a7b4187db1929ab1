"""Chinese text preprocessing for the anti-spam family: one implementation, no TensorFlow.

Why one module: the classifier is trained on word vectors of the tokens this module produces, and the
gateway must produce exactly the same tokens from a user's raw text. Training (`training/antispam/data.py`)
and the gateway (`gateway/families/antispam.py`) both import it, so the two can never drift apart.

Why these rules (policy version 2): the book's corpus carries artefacts that separate the classes without
saying anything about spam (its PROVENANCE.md: Chinese punctuation almost only in spam, contact digits
masked as `x` only in spam, spam three times longer). A model that can see an artefact learns it and then
fails on real messages (a normal message with a comma and a full stop was "spam" four times in five).
So the pipeline makes the artefacts invisible, and keeps the real spam signals as tokens of their own:

1. Unicode NFKC: full-width letters, digits and punctuation become ASCII (`ｗｘ１２３` -> `wx123`, `，` -> `,`),
   circled/roman numerals become digits/letters, the ideographic space becomes a space.
2. Lower case (`WeChat` and `wechat` are one token; `iPhone` and `iphone` too).
3. A per-character table (a cached `str.translate`): Cyrillic/Greek look-alikes -> the Latin letter
   (`vх` with a Cyrillic `х` is `vx`), `〇` -> `0`; invisible format/control/private-use characters removed
   (spammers split words with zero-width spaces; private-use code points are reserved for step 5); every
   whitespace character becomes a plain space (a token boundary, never a token).
4. Links and e-mail addresses -> one token each, `<url>` / `<email>` (`links=True`): `http://…`, `www.…`,
   and bare domains such as `t.cn/abc` or `abc.com`. A link in a message is a spam signal; the host name
   characters are not (the corpus masks them).
5. Numbers -> a class token by length (`digits="classes"`): every run of digits, and every run of the
   corpus's `x` masks, becomes `<num>` (1-4 characters: times, prices, dates) or `<num_long>` (5 or more:
   phone numbers, QQ ids, account numbers). The corpus writes `x月x日` in spam and `3月5日` in normal
   messages; both are now `<num>月<num>日`. A run of `x` is a mask when it has at least three `x`, or when
   it does not follow a Latin letter and at most one letter follows (`xg` = a masked `4g`); so `next`,
   `xbox` and `iphonex` stay words. Partly masked runs (`138xxxx1234`) are one number. How long a contact
   number is survives (a phone number is `<num_long>`), which digit it is does not.
6. Punctuation and symbols (Unicode P* and S*, emoji included) -> token boundaries
   (`punctuation="drop"`), except currency signs (Sc: `¥`, `$`), which are kept as tokens (money amounts).
   Punctuation is where the corpus's biggest artefact sits; what it carries in real messages (a `!` or
   a `【…】` header) is not worth a model that flags every punctuated message.
7. jieba segmentation (HMM on), one `Segmenter` per user dictionary, built once per process (jieba-rs
   where it is known to give jieba's tokens, `Segmenter` says when);
   the placeholders of steps 4-5 are single private-use characters, which jieba emits as tokens of their
   own, and are renamed to their readable form (`<num>` …) after segmentation.
8. token -> id with one unknown id (`UNK_ID = 0`); with `oov="chars"` a word outside the vocabulary is first
   read as its characters (`split_unknown`: 洗钱 -> 洗 钱), and is one unknown token only when none of its
   characters is known. A text without any token is read as one unknown token,
   so every text reaches the model with at least one (non-zero) vector. A text that is empty once the
   invisible characters are removed (only NUL, zero-width or control characters) is refused by the caller
   (`is_blank`), as whitespace is.
9. ids -> L2-normalised vectors, zero-padded to the longest text: a [B, T, dim] float32 batch whose
   all-zero rows are padding (the graph masks them).

Versions published before policy version 2 carry their policy in the manifest without a `version` field;
`TextPolicy.from_dict` reads those as version 1 (digits masked as `x`, punctuation kept, no link tokens),
so an old version keeps reading text exactly as it was trained. Each choice is measured in
docs/antispam.md (the ablation table).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Container, Iterable, Literal, Sequence

import numpy as np

UNK = "<unk>"
UNK_ID = 0

# Latin look-alikes that survive NFKC + lower case (Cyrillic, Greek, dotless i) and the ideographic zero.
LOOKALIKES: dict[str, str] = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "ɡ": "g", "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ı": "i", "ℓ": "l", "〇": "0",
}


NUM, NUM_LONG, URL, EMAIL = "<num>", "<num_long>", "<url>", "<email>"
# the placeholders steps 4-5 write: private-use characters (removed from the input in step 3), one jieba token each
_PH_NUM, _PH_NUM_LONG, _PH_URL, _PH_EMAIL = "\ue000", "\ue001", "\ue002", "\ue003"
PLACEHOLDER_TOKENS: dict[str, str] = {_PH_NUM: NUM, _PH_NUM_LONG: NUM_LONG, _PH_URL: URL, _PH_EMAIL: EMAIL}
SPECIAL_TOKENS = tuple(PLACEHOLDER_TOKENS.values())
LONG_NUMBER = 5  # digits (or masks) from which a number is a contact/account number: <num_long>

_TLD = r"(?:com|cn|net|org|cc|top|xyz|vip|info|me|io|co|tk|club|shop|link|site|online|hk|tw|biz|wang|ly|gl)"
_EMAIL_RE = r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}"
_URL_RE = (r"(?:https?://|www\.)[a-z0-9\-._~:/?#@!$&'()*+,;=%]+"
           rf"|(?<![a-z0-9.\-])[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.{_TLD}(?![a-z0-9\-])(?:[/?][a-z0-9\-._~/?#=&%]*)?")
_LINK = re.compile(f"(?P<email>{_EMAIL_RE})|(?P<url>{_URL_RE})")
_NUMBER_RUN = re.compile(r"[0-9x]+")
_LETTER = re.compile(r"[a-z]")


@dataclass(frozen=True)
class TextPolicy:
    """The preprocessing parameters; written into every manifest so a version states how it reads text."""

    nfkc: bool = True
    lowercase: bool = True
    lookalikes: bool = True
    strip_invisible: bool = True
    digits: Literal["classes", "mask", "keep"] = "classes"
    punctuation: Literal["drop", "keep"] = "drop"
    links: bool = True
    hmm: bool = True  # jieba's HMM for words not in its dictionary
    version: int = 2
    oov: Literal["unk", "chars"] = "unk"  # a word outside the vocabulary: one <unk>, or its characters (step 8)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TextPolicy":
        """A manifest's policy; one written before version 2 (no `version`) keeps the version-1 meaning."""
        if "version" not in data:
            data = {"version": 1, "links": False, "digits": "mask", "punctuation": "keep", **data}
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


class _CharTable(dict):
    """`str.translate` table filled lazily: each code point is classified once, then looked up.

    `stage` "pre" is step 3 (plus, in version 1, the digit mask and punctuation of the same pass);
    "post" is step 6 (punctuation and symbols to boundaries), run after the placeholders are written.
    """

    def __init__(self, policy: TextPolicy, stage: str) -> None:
        super().__init__()
        self.policy = policy
        self.stage = stage

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        p = self.policy
        v1 = p.version < 2
        if self.stage == "post":
            cat = unicodedata.category(ch)
            out = " " if p.punctuation == "drop" and cat[0] in "PS" and cat != "Sc" else ch
            self[code] = out
            return out
        if p.lookalikes:
            ch = LOOKALIKES.get(ch, ch)
        cat = unicodedata.category(ch)
        if ch.isspace():
            out = " "
        elif p.strip_invisible and (cat in ("Cf", "Cc") or (not v1 and cat == "Co")):
            out = ""
        elif v1 and p.digits == "mask" and cat == "Nd":
            out = "x"
        elif v1 and p.punctuation == "drop" and cat[0] in "PS":
            out = " "
        else:
            out = ch
        self[code] = out
        return out


_TABLES: dict[tuple[TextPolicy, str], _CharTable] = {}


def _table(policy: TextPolicy, stage: str) -> _CharTable:
    table = _TABLES.get((policy, stage))
    if table is None:
        table = _TABLES.setdefault((policy, stage), _CharTable(policy, stage))
    return table


def _link_placeholder(m: re.Match) -> str:
    return f" {_PH_EMAIL if m.lastgroup == 'email' else _PH_URL} "


def _number_placeholder(m: re.Match) -> str:
    """A digit/`x` run -> <num>/<num_long>, or the run unchanged when its `x`s are letters of a word."""
    run = m.group()
    if "x" in run and not any(c != "x" for c in run) and len(run) < 3:  # `x`/`xx`: a mask or a letter?
        s, e, text = m.start(), m.end(), m.string
        if s and _LETTER.match(text, s - 1):
            return run  # "next", "iphonex"
        if _LETTER.match(text, e) and _LETTER.match(text, e + 1):
            return run  # "xbox"
    return f" {_PH_NUM_LONG if len(run) >= LONG_NUMBER else _PH_NUM} "


def visible_text(text: str, policy: TextPolicy = TextPolicy()) -> str:
    """Steps 1-3 only: what is left of the text once case, width and invisible characters are normalised."""
    if policy.nfkc:
        text = unicodedata.normalize("NFKC", text)
    if policy.lowercase:
        text = text.lower()
    return text.translate(_table(policy, "pre"))


def is_blank(text: str, policy: TextPolicy = TextPolicy()) -> bool:
    """True when nothing but whitespace, NUL, zero-width or control characters is left (refused with 422)."""
    return not visible_text(text, policy).strip()


def normalize(text: str, policy: TextPolicy = TextPolicy()) -> str:
    """Steps 1-6. Whitespace runs are left for jieba to skip; placeholders are single private-use characters."""
    text = visible_text(text, policy)
    if policy.version < 2:
        return text
    if policy.links and ("." in text or "@" in text):
        text = _LINK.sub(_link_placeholder, text)
    if policy.digits == "classes":
        text = _NUMBER_RUN.sub(_number_placeholder, text)
    elif policy.digits == "mask":
        text = re.sub(r"[0-9]", "x", text)
    if policy.punctuation == "drop":
        text = text.translate(_table(policy, "post"))
    return text


# jieba keeps these inside a word's block and its HMM reads `8.2`, `%` specially; jieba-rs does not (it keeps
# `8.2gb` or `3-2-1105` whole where jieba splits them): a text with one of them is segmented by jieba itself
_JIEBA_WORD_SYMBOLS = re.compile(r"[+#&._%\-]")


class Segmenter:
    """jieba segmentation for one user dictionary: jieba-rs (rjieba) where it gives jieba's tokens, else jieba.

    Why two engines: jieba is pure Python and was ~160 µs of each message, about 40 % of the gateway's
    event-loop work under load (measured 2026-12-03); rjieba, jieba's algorithm and dictionary in Rust,
    takes ~6 µs. The two differ only in how they read the symbols jieba keeps inside words
    (`_JIEBA_WORD_SYMBOLS`), so a text without them goes to rjieba and a text with one to jieba. On every
    text we have (16,544: the corpus lines plus the challenge and supplementary sets, under each policy) the
    result is token for token jieba's; a test re-checks it. A user dictionary, which rjieba loads
    differently, sends every text to jieba. So every published version keeps reading text exactly as it
    was trained. jieba's dictionary (~2 s to load, tens of MB) is loaded only when a text needs it.

    Use :func:`get_segmenter`, which keeps one instance per user dictionary content per process.
    """

    def __init__(self, user_dict: Path | None = None) -> None:
        import rjieba

        self.user_dict = user_dict
        self._fast = rjieba.Jieba() if user_dict is None else None
        self._jieba: Any = None
        self._lock = threading.Lock()

    def _python_jieba(self) -> Any:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    import jieba

                    jieba.setLogLevel(logging.WARNING)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    if self.user_dict is not None:
                        tokenizer.load_userdict(str(self.user_dict))
                    self._jieba = tokenizer
        return self._jieba

    def uses_rjieba(self, text: str) -> bool:
        return self._fast is not None and _JIEBA_WORD_SYMBOLS.search(text) is None

    def cut(self, text: str, hmm: bool = True) -> list[str]:
        """jieba's tokens of `text`, whitespace left out."""
        fast = self._fast if self.uses_rjieba(text) else None
        if fast is not None:
            return [t for t in fast.cut(text, hmm) if t.strip()]
        return self.cut_with_jieba(text, hmm)

    def cut_with_jieba(self, text: str, hmm: bool = True) -> list[str]:
        """jieba itself, whatever the text (the reference the tests hold rjieba to)."""
        return [t for t in self._python_jieba().cut(text, HMM=hmm) if t.strip()]


_SEGMENTERS: dict[str, Segmenter] = {}
_SEG_LOCK = threading.Lock()
INIT_COUNT = 0  # how many Segmenters this process has built (tests check jieba is initialised once)


def user_dict_key(user_dict: Path | None) -> str:
    return "" if user_dict is None else hashlib.sha256(Path(user_dict).read_bytes()).hexdigest()


def get_segmenter(user_dict: Path | None = None) -> Segmenter:
    """The process-wide Segmenter for this user dictionary (by content), built on first use."""
    global INIT_COUNT
    key = user_dict_key(user_dict)
    seg = _SEGMENTERS.get(key)
    if seg is None:
        with _SEG_LOCK:
            seg = _SEGMENTERS.get(key)
            if seg is None:
                seg = Segmenter(user_dict)
                INIT_COUNT += 1
                _SEGMENTERS[key] = seg
    return seg


def tokenize(text: str, policy: TextPolicy = TextPolicy(), segmenter: Segmenter | None = None) -> list[str]:
    """Raw text -> tokens (steps 1-7); never returns whitespace tokens."""
    seg = segmenter or get_segmenter()
    tokens = seg.cut(normalize(text, policy), hmm=policy.hmm)
    if policy.version >= 2:
        get = PLACEHOLDER_TOKENS.get
        tokens = [get(t, t) for t in tokens]
    return tokens


def split_unknown(tokens: Sequence[str], known: Container[str]) -> list[str]:
    """Each token outside `known` replaced by its characters, when at least one of them is known.

    Why: about a fifth of held-out tokens are words seen fewer than min-count times (names, places, brands,
    compounds, run-together Latin); read as one `<unk>` they carry nothing, while their characters (`洗` `钱`,
    `侦` `探`) have vectors. Training writes its rare words the same way, so the characters get vectors in
    context. Splitting into the longest known pieces instead (手机游戏 -> 手机 游戏) was measured worse
    (docs/antispam.md, fifth round).
    """
    out: list[str] = []
    for t in tokens:
        if t in known or len(t) == 1 or t in SPECIAL_TOKENS or not any(ch in known for ch in t):
            out.append(t)
        else:
            out.extend(t)
    return out


@dataclass
class Vocabulary:
    """token <-> id; id 0 is the unknown token. Stored as a text file, one token per line, line = id."""

    tokens: list[str]
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.tokens or self.tokens[UNK_ID] != UNK:
            raise ValueError(f"vocabulary must start with {UNK!r}")
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("vocabulary has duplicate tokens")

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_count: int) -> tuple["Vocabulary", dict[str, int]]:
        """Tokens seen at least `min_count` times, most frequent first (ties by token); also the counts."""
        counts: dict[str, int] = {}
        for toks in token_lists:
            for t in toks:
                counts[t] = counts.get(t, 0) + 1
        kept = sorted((t for t, c in counts.items() if c >= min_count and t != UNK), key=lambda t: (-counts[t], t))
        return cls([UNK, *kept]), counts

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """int64 ids; unknown tokens -> UNK_ID; no token at all -> [UNK_ID] (a text is never empty for the model)."""
        if not tokens:
            return np.array([UNK_ID], dtype=np.int64)
        get = self.index.get
        return np.fromiter((get(t, UNK_ID) for t in tokens), dtype=np.int64, count=len(tokens))

    def to_text(self) -> str:
        return "\n".join(self.tokens) + "\n"

    @classmethod
    def from_text(cls, text: str) -> "Vocabulary":
        return cls(text.rstrip("\n").split("\n"))


def apply_oov(tokens: Sequence[str], vocab: Vocabulary, policy: TextPolicy) -> list[str]:
    """Step 8's reading of unknown words, as the policy says: one `<unk>` each, or their characters."""
    return split_unknown(tokens, vocab.index) if policy.oov == "chars" else list(tokens)


def model_tokens(text: str, policy: TextPolicy, vocab: Vocabulary, segmenter: Segmenter | None = None) -> list[str]:
    """Raw text -> the tokens a version's model reads (steps 1-8 before the ids): the one call for serving and
    evaluation, so that no caller can tokenise without the version's reading of unknown words."""
    return apply_oov(tokenize(text, policy, segmenter), vocab, policy)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32). A zero row is refused: it would read as padding."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a word vector is all zeros; it would be masked as padding")
    return (vectors / norms).astype(np.float32)


def lookup_batch(id_lists: Sequence[np.ndarray], vectors: np.ndarray, length: int | None = None) -> np.ndarray:
    """Vectors of each text, zero-padded to the longest text (or `length`): float32 [B, T, dim].

    One fancy-indexing assignment for the whole batch (no Python loop over tokens).
    """
    if len(id_lists) == 1 and (length is None or length == len(id_lists[0])):  # one text: no padding to place
        return vectors[np.asarray(id_lists[0])][None]
    lengths = np.fromiter((len(ids) for ids in id_lists), dtype=np.int64, count=len(id_lists))
    t = int(lengths.max(initial=0)) if length is None else int(length)
    if lengths.size and lengths.max() > t:
        raise ValueError(f"a text has {lengths.max()} tokens, more than the batch length {t}")
    out = np.zeros((len(id_lists), t, vectors.shape[1]), dtype=np.float32)
    if lengths.sum():
        rows = np.repeat(np.arange(len(id_lists)), lengths)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        cols = np.arange(lengths.sum()) - starts
        out[rows, cols] = vectors[np.concatenate(id_lists)]
    return out
