"""The servable contract of docs/design.md §3: one `serving_default` signature per model, with fixed aliases.

Training exports against these specs and reads the aliases back; the gateway and `servectl validate` check
a version's SignatureDef against them. -1 is an unknown dimension (batch, or any size where the model is
fully convolutional).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SIGNATURE_KEY = "serving_default"


@dataclass(frozen=True)
class TensorSpec:
    dtype: str  # numpy dtype name: float32, int64, ...
    shape: tuple[int, ...]  # -1 = any size


@dataclass(frozen=True)
class Signature:
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    key: str = field(default=SIGNATURE_KEY)

    def as_dict(self) -> dict:
        def side(specs: dict[str, TensorSpec]) -> dict:
            return {alias: {"dtype": s.dtype, "shape": list(s.shape)} for alias, s in specs.items()}

        return {"key": self.key, "inputs": side(self.inputs), "outputs": side(self.outputs)}

    @classmethod
    def from_dict(cls, data: dict) -> "Signature":
        def side(d: dict) -> dict[str, TensorSpec]:
            return {a: TensorSpec(v["dtype"], tuple(v["shape"])) for a, v in d.items()}

        return cls(inputs=side(data["inputs"]), outputs=side(data["outputs"]), key=data.get("key", SIGNATURE_KEY))


def shapes_compatible(expected: tuple[int, ...], actual: tuple[int, ...] | None) -> bool:
    """True when a SignatureDef shape (None = unknown rank) fits the contract; -1 matches anything."""
    if actual is None:
        return True
    if len(expected) != len(actual):
        return False
    return all(e == -1 or a == -1 or e == a for e, a in zip(expected, actual))


def f32(*shape: int) -> TensorSpec:
    return TensorSpec("float32", shape)


CONTRACTS: dict[str, Signature] = {
    "antispam": Signature({"x": f32(-1, -1, 200)}, {"probabilities": f32(-1, 2)}),
    "vgg16": Signature({"images": f32(-1, 224, 224, 3)}, {"probabilities": f32(-1, -1), "features": f32(-1, -1)}),
    "inception_v3": Signature({"images": f32(-1, 299, 299, 3)}, {"probabilities": f32(-1, -1)}),
    "unet": Signature({"images": f32(-1, -1, -1, 4)}, {"probabilities": f32(-1, -1, -1, 1)}),
    "srgan": Signature({"images": f32(-1, -1, -1, 3)}, {"images": f32(-1, -1, -1, 3)}),
    "text2image": Signature(
        {"caption_ids": TensorSpec("int64", (-1, -1)), "z": f32(-1, -1)}, {"images": f32(-1, 64, 64, 3)}
    ),
}
