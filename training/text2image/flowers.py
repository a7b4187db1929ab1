"""Procedural captioned flowers: the stand-in for Oxford-102 + Reed et al.'s captions (chapter 12).

Why procedural: the real data set cannot be downloaded here, and a generated one carries its own truth
(every image's attributes are known), so "does the generated image match the caption" can be measured.

Each 64x64 render varies petal count, petal colour, centre colour, petal shape, flower size, rotation,
position and background; each image has 10 captions drawn from varied templates in the style of the book's
sample sentences ("the petals on this flower are white with a yellow center"). Everything is a pure
function of the seed (NumPy PCG64), so the data hash in the manifest identifies the data exactly.

The split holds some (petal colour, centre colour) combinations back for the test set only, so the
held-out metrics measure generalisation to combinations never seen in training (every colour on its own
is still seen, with other partners).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

IMAGE_SIZE = 64
CAPTIONS_PER_IMAGE = 10

PETAL_COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (200, 25, 30),
    "pink": (245, 130, 185),
    "yellow": (245, 215, 30),
    "white": (245, 245, 240),
    "purple": (120, 40, 160),
    "blue": (50, 90, 220),
    "orange": (245, 125, 20),
}
CENTRE_COLOURS: dict[str, tuple[int, int, int]] = {
    "yellow": (250, 200, 20),
    "black": (30, 25, 25),
    "brown": (120, 70, 30),
    "green": (70, 160, 50),
}
PETAL_SHAPES = ("round", "pointed", "thin")
PETAL_COUNTS = (4, 5, 6, 8)
SIZES = ("small", "large")
BACKGROUNDS = ("leaves", "dark", "sky")

PETAL_NAMES = tuple(PETAL_COLOURS)
CENTRE_NAMES = tuple(CENTRE_COLOURS)

# (petal, centre) pairs that never appear in training: one per petal colour where possible, and every
# centre colour held back at least once, so each colour still appears with other partners in training.
HELD_OUT_COMBINATIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("red", "yellow"),
        ("pink", "black"),
        ("yellow", "brown"),
        ("white", "green"),
        ("purple", "yellow"),
        ("blue", "brown"),
        ("orange", "black"),
    }
)

_COUNT_WORDS = {4: "four", 5: "five", 6: "six", 8: "eight"}
_SHAPE_WORDS = {
    "round": ("round", "rounded", "broad"),
    "pointed": ("pointed", "pointy", "sharp"),
    "thin": ("thin", "narrow", "slender"),
}
_SIZE_WORDS = {"small": ("small", "tiny", "little"), "large": ("large", "big", "wide")}
_CENTRE_NOUNS = ("center", "center", "centre", "stamen", "pistil")

# Templates in the style of Reed et al.'s Oxford-102 captions; {p} petal colour, {c} centre colour,
# {s} shape word, {n} petal count, {z} size word, {cn} centre noun.
_TEMPLATES = (
    "the petals on this flower are {p} with a {c} {cn}",
    "this flower has {p} petals and a {c} {cn}",
    "this flower has {n} {s} {p} petals surrounding a {c} {cn}",
    "a {z} flower with {p} petals and a {c} {cn}",
    "this {p} flower has {s} petals and a {c} {cn}",
    "the flower shown has {n} {p} petals with a {c} {cn}",
    "{p} petals surround a {c} {cn} in this {z} flower",
    "this flower is {p} in color, with petals that are {s}",
    "the petals of this flower are {s} and {p}",
    "a flower with {n} {p} petals",
    "this {z} flower has {p} petals that are {s}",
    "this flower has petals that are {p} and has a {c} {cn}",
    "the {c} {cn} is surrounded by {s} {p} petals",
    "this flower is {p} and {c} in color",
)


@dataclass(frozen=True)
class Attributes:
    petal: str
    centre: str
    shape: str
    count: int
    size: str
    background: str


@dataclass(frozen=True)
class FlowerSet:
    images: np.ndarray  # uint8 [N, 64, 64, 3]
    captions: list[list[str]]  # N x CAPTIONS_PER_IMAGE
    attributes: list[Attributes]
    petal_idx: np.ndarray  # int [N] index into PETAL_NAMES
    centre_idx: np.ndarray  # int [N] index into CENTRE_NAMES

    def __len__(self) -> int:
        return len(self.attributes)

    def digest(self) -> str:
        h = hashlib.sha256(self.images.tobytes())
        for caps in self.captions:
            h.update("\n".join(caps).encode())
        return "sha256:" + h.hexdigest()


def caption_mentions_centre(caption: str, attrs: Attributes) -> bool:
    """True when the caption names the centre colour (not every template does)."""
    return any(f"{attrs.centre} {n}" in caption for n in set(_CENTRE_NOUNS)) or caption.endswith(f"and {attrs.centre} in color")


def make_captions(attrs: Attributes, rng: np.random.Generator, k: int = CAPTIONS_PER_IMAGE) -> list[str]:
    order = rng.permutation(len(_TEMPLATES))[:k]
    out = []
    for t in order:
        out.append(
            _TEMPLATES[t].format(
                p=attrs.petal,
                c=attrs.centre,
                s=rng.choice(_SHAPE_WORDS[attrs.shape]),
                n=_COUNT_WORDS[attrs.count],
                z=rng.choice(_SIZE_WORDS[attrs.size]),
                cn=rng.choice(_CENTRE_NOUNS),
            )
        )
    return out


def _background(kind: str, rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    n = IMAGE_SIZE
    if kind == "leaves":
        base = np.array([40, 110, 45], np.float32) * rng.uniform(0.7, 1.2)
        coarse = rng.normal(0, 1, (8, 8, 1)).repeat(8, 0).repeat(8, 1)
        img = base + 25 * coarse + rng.normal(0, 6, (n, n, 3))
    elif kind == "dark":
        base = np.array([25, 35, 25], np.float32) * rng.uniform(0.6, 1.4)
        img = base + rng.normal(0, 5, (n, n, 3))
    else:  # sky: vertical gradient from light blue to pale
        top = np.array([120, 170, 230], np.float32)
        bottom = np.array([210, 225, 240], np.float32)
        t = (yy / n)[..., None]
        img = top * (1 - t) + bottom * t + rng.normal(0, 4, (n, n, 3))
    return img.astype(np.float32)


def render(attrs: Attributes, rng: np.random.Generator) -> np.ndarray:
    """One 64x64 RGB uint8 flower: polar 'rose' petals over a background, with shading and a textured centre."""
    n = IMAGE_SIZE
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    img = _background(attrs.background, rng, yy, xx)
    radius = (rng.uniform(15, 19) if attrs.size == "small" else rng.uniform(24, 29))
    cy, cx = n / 2 + rng.uniform(-4, 4), n / 2 + rng.uniform(-4, 4)
    dy, dx = yy - cy, xx - cx
    r = np.hypot(dy, dx)
    theta = np.arctan2(dy, dx) + rng.uniform(0, 2 * np.pi)
    wave = np.abs(np.cos(attrs.count * theta / 2))
    if attrs.shape == "round":
        extent = 0.35 + 0.65 * wave**0.35
    elif attrs.shape == "pointed":
        extent = 0.25 + 0.75 * wave**1.2
    else:
        extent = 0.15 + 0.85 * wave**6
    edge = radius * extent
    petal_alpha = np.clip(edge - r + 0.5, 0, 1)  # anti-aliased edge
    colour = np.array(PETAL_COLOURS[attrs.petal], np.float32) * rng.uniform(0.88, 1.08, 3)
    shade = 0.72 + 0.28 * np.clip(r / np.maximum(edge, 1e-3), 0, 1)  # darker towards the centre
    vein = 1 - 0.08 * (np.abs(np.sin(attrs.count * theta / 2)) < 0.04 * np.maximum(r, 1) / radius * 6)
    petals = np.clip(colour * (shade * vein)[..., None], 0, 255)
    img = img * (1 - petal_alpha[..., None]) + petals * petal_alpha[..., None]
    centre_r = radius * rng.uniform(0.22, 0.3)
    centre_alpha = np.clip(centre_r - r + 0.5, 0, 1)
    ccol = np.array(CENTRE_COLOURS[attrs.centre], np.float32) * rng.uniform(0.9, 1.1, 3)
    dots = 1 + 0.12 * rng.normal(0, 1, (n, n))
    centre = np.clip(ccol * dots[..., None], 0, 255)
    img = img * (1 - centre_alpha[..., None]) + centre * centre_alpha[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def all_combinations() -> list[tuple[str, str]]:
    return [(p, c) for p in PETAL_NAMES for c in CENTRE_NAMES]


def generate(n: int, seed: int, *, held_out: bool | None) -> FlowerSet:
    """`n` flowers; `held_out=False` draws only training combinations, `True` only the held-out ones,
    `None` every combination (the attribute judge's own renders)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    combos = sorted(c for c in all_combinations() if held_out is None or (c in HELD_OUT_COMBINATIONS) == held_out)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    attrs_list: list[Attributes] = []
    captions: list[list[str]] = []
    for i in range(n):
        petal, centre = combos[i % len(combos)] if i < len(combos) else combos[rng.integers(len(combos))]
        attrs = Attributes(
            petal=petal,
            centre=centre,
            shape=PETAL_SHAPES[rng.integers(len(PETAL_SHAPES))],
            count=int(PETAL_COUNTS[rng.integers(len(PETAL_COUNTS))]),
            size=SIZES[rng.integers(len(SIZES))],
            background=BACKGROUNDS[rng.integers(len(BACKGROUNDS))],
        )
        images[i] = render(attrs, rng)
        captions.append(make_captions(attrs, rng))
        attrs_list.append(attrs)
    return FlowerSet(
        images=images,
        captions=captions,
        attributes=attrs_list,
        petal_idx=np.array([PETAL_NAMES.index(a.petal) for a in attrs_list]),
        centre_idx=np.array([CENTRE_NAMES.index(a.centre) for a in attrs_list]),
    )


@dataclass(frozen=True)
class Split:
    train: FlowerSet  # training combinations only
    val: FlowerSet  # training combinations, unseen images (attribute classifier check)
    test: FlowerSet  # held-out combinations only


def make_split(n_train: int, n_val: int, n_test: int, seed: int) -> Split:
    """Three disjoint seeded streams; test draws only HELD_OUT_COMBINATIONS."""
    return Split(
        train=generate(n_train, seed, held_out=False),
        val=generate(n_val, seed + 1, held_out=False),
        test=generate(n_test, seed + 2, held_out=True),
    )
