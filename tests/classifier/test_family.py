"""The gateway family unit: parity with the training pipeline, request parsing, errors, post-processing."""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
import skimage
from PIL import Image

from common import images as im
from gateway import errors as E
from gateway.core.config import Settings
from gateway.families import UploadedFile, family_for
from gateway.families.images import ClassifierAssets, ClassifierInputs
from training.classifier import data as data_mod

SKIMAGE_DATA = Path(skimage.__file__).parent / "data"
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "camera.png", "logo.png", "rocket.jpg",
          "hubble_deep_field.jpg", "no_time_for_that_tiny.gif", "color.png"]
FAMILY = family_for("vgg16")


def assets(policy: im.ResizePolicy, n: int = 10, features: bool = True) -> ClassifierAssets:
    return ClassifierAssets([f"c{i}" for i in range(n)], "custom", policy, im.DEFAULT_LIMITS, features)


def multipart(*blobs: bytes, **fields: str) -> ClassifierInputs:
    return FAMILY.parse_multipart(fields, [UploadedFile("image", f"f{i}.png", "image/png", b) for i, b in enumerate(blobs)])


@pytest.mark.parametrize("model", ["vgg16", "inception_v3"])
def test_preprocessing_parity_with_training(tmp_path: Path, model: str) -> None:
    """Bundled scikit-image photos: training's folder pipeline and the gateway give bit-identical tensors."""
    for i, name in enumerate(PHOTOS):
        (tmp_path / f"class{i % 2}").mkdir(exist_ok=True)
        shutil.copy(SKIMAGE_DATA / name, tmp_path / f"class{i % 2}" / name)
    policy = im.POLICIES[model]
    files, _, _ = data_mod.folder_files(tmp_path)
    training = np.stack([data_mod.ImageSet([data_mod.load_file(f, policy).astype(np.uint8)], np.zeros(1), policy).tensor([0])[0]
                         for f in files])
    gateway = FAMILY.preprocess(multipart(*(f.read_bytes() for f in files)), assets(policy)).arrays["images"]
    assert gateway.dtype == training.dtype == np.float32
    assert gateway.shape == (len(PHOTOS), policy.size, policy.size, 3)
    assert np.array_equal(gateway, training)
    as_json = ClassifierInputs(images=[base64.b64encode(f.read_bytes()).decode() for f in files])
    assert np.array_equal(FAMILY.preprocess(as_json, assets(policy)).arrays["images"], gateway)
    # and the dataset object training iterates over (folder -> stored uint8 -> tensor) agrees too
    ds = data_mod.folder(tmp_path, policy)
    everything = np.concatenate([ds.train.tensor(range(len(ds.train))), ds.held_out.tensor(range(len(ds.held_out)))])
    assert {arr.tobytes() for arr in everything} == {arr.tobytes() for arr in gateway}


def test_digits_parity() -> None:
    """Digits: the raw 8x8 image uploaded as PNG gives the same tensor the digits training set was built from."""
    raw, _ = data_mod.digits_held_out()
    ds = data_mod.digits(im.VGG16_POLICY)
    png = io.BytesIO()
    Image.fromarray(raw[0]).save(png, "PNG")
    sent = FAMILY.preprocess(multipart(png.getvalue()), assets(im.VGG16_POLICY)).arrays["images"][0]
    assert np.array_equal(sent, ds.held_out.tensor([0])[0])


def test_postprocess_top_k_and_features() -> None:
    probs = np.array([[0.1, 0.5, 0.05, 0.3, 0.05], [0.9, 0.02, 0.03, 0.04, 0.01]], np.float32)
    feats = np.arange(8, dtype=np.float32).reshape(2, 4)
    inputs = ClassifierInputs(images=["", ""], top_k=3, features=True)
    out = FAMILY.postprocess({"probabilities": probs, "features": feats}, assets(im.VGG16_POLICY, 5), inputs, None)
    first = out.predictions[0]
    assert [p.index for p in first.top_k] == [1, 3, 0] and first.top_k[0].label == "c1"
    assert first.top_k[0].probability == pytest.approx(0.5)
    assert out.predictions[1].features == [4.0, 5.0, 6.0, 7.0]
    big = FAMILY.postprocess({"probabilities": probs}, assets(im.VGG16_POLICY, 5), ClassifierInputs(image="", top_k=20), None)
    assert len(big.predictions[0].top_k) == 5 and big.predictions[0].features is None
    assert FAMILY.output_filter(ClassifierInputs(image="")) == ["probabilities"]
    assert FAMILY.output_filter(inputs) == ["probabilities", "features"]


def test_load_assets_from_published_version(cls_repo: Path) -> None:
    from common.manifest import read_manifest

    version = cls_repo / "vgg16" / "1"
    manifest = read_manifest(version)
    a = FAMILY.load_assets(version, manifest, Settings())
    assert a.policy == im.VGG16_POLICY and a.labels[3] == "3" and a.has_features is True
    # a version without a `features` output (Inception V3's contract) refuses features=true
    manifest["signature"]["outputs"].pop("features")
    manifest["preprocessing"]["resize"] = im.INCEPTION_V3_POLICY.as_dict()
    b = FAMILY.load_assets(version, manifest, Settings())
    assert b.policy == im.INCEPTION_V3_POLICY and b.has_features is False
    with pytest.raises(E.InvalidInput, match="vgg16 only"):
        FAMILY.preprocess(ClassifierInputs(image="", features=True), b)


def png_bytes(size=(10, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("inputs,error,match", [
    (lambda: multipart(b""), E.InvalidInput, "empty file"),
    (lambda: multipart(b"GIF89a-not-really"), E.UnsupportedMediaType, "accepted formats: JPEG, PNG"),
    (lambda: multipart(b"%PDF-1.4 hello"), E.UnsupportedMediaType, "not an image"),
    (lambda: multipart(png_bytes()[:50]), E.InvalidInput, "truncated"),
    (lambda: multipart(png_bytes((5000, 5000))), E.PayloadTooLarge, "decompression-bomb"),
    (lambda: ClassifierInputs(image="!!!not base64!!!"), E.InvalidInput, "base64"),
    (lambda: ClassifierInputs(), E.InvalidInput, "no image given"),
    (lambda: ClassifierInputs(images=[base64.b64encode(png_bytes()).decode()] * 33), E.PayloadTooLarge, "at most 32"),
])
def test_bad_inputs(inputs, error, match: str) -> None:
    a = ClassifierAssets(["x"], "custom", im.VGG16_POLICY, im.ImageLimits(max_pixels=1_000_000), True)
    with pytest.raises(error, match=match) as e:
        FAMILY.preprocess(inputs(), a)
    assert 400 <= e.value.status < 500


def test_multipart_field_errors() -> None:
    with pytest.raises(E.InvalidInput, match="top_k"):
        FAMILY.parse_multipart({"top_k": "21"}, [UploadedFile("image", "a.png", None, png_bytes())])
    with pytest.raises(E.InvalidInput, match="top_k"):
        FAMILY.parse_multipart({"top_k": "five"}, [UploadedFile("image", "a.png", None, png_bytes())])
    with pytest.raises(E.InvalidInput, match="features"):
        FAMILY.parse_multipart({"features": "maybe"}, [UploadedFile("image", "a.png", None, png_bytes())])
    with pytest.raises(E.InvalidInput, match="unexpected file field"):
        FAMILY.parse_multipart({}, [UploadedFile("picture", "a.png", None, png_bytes())])
    with pytest.raises(ValueError):
        ClassifierInputs(image="", top_k=21)
    with pytest.raises(ValueError):
        ClassifierInputs(image="", images=[""])
