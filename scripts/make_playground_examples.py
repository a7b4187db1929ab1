"""Write the playground's bundled example inputs (gateway/static/playground/examples/), deterministically.

Why a script: the files are committed (a fresh stack must work with no download), and this says exactly
where every byte came from. Sources: scikit-learn's bundled handwritten digits, scikit-image's bundled
photos (`skimage.data`), and the seeded synthetic MRI generator the U-Net trains on (training.unet.synth).
Texts (anti-spam messages, flower captions) are written here. Run after changing a source:
    .venv/bin/python scripts/make_playground_examples.py
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "gateway" / "static" / "playground" / "examples"

ANTISPAM = [
    {"title": "Promotion with phone number", "text": "本店新品上市，全场八折优惠，详询13800138000"},
    {"title": "Red-packet bait", "text": "加微信领取免费红包，名额有限，先到先得！"},
    {"title": "Friend asking about dinner", "text": "今晚一起吃饭吗？我七点下班，在公司楼下等你"},
    {"title": "Work message", "text": "会议改到明天下午三点，请大家准时参加"},
    {"title": "Loan advert", "text": "无抵押贷款，当天放款，低息快速审批，联系客服"},
]
CAPTIONS = [
    "the petals on this flower are white with a yellow center",
    "this flower has large pink petals and a small yellow stamen",
    "a purple flower with long thin petals",
    "this flower is red and orange with rounded petals",
    "the petals are blue with a dark center and wavy edges",
]


def png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def jpeg(image: np.ndarray, quality: int = 88) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def resized(image: np.ndarray, width: int) -> np.ndarray:
    im = Image.fromarray(image)
    return np.asarray(im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS))


def classifier_examples(out: Path) -> list[dict]:
    from training.classifier.data import digits_held_out

    rgb, labels = digits_held_out()
    items = []
    for want in (3, 7, 0):
        i = int(np.flatnonzero(labels == want)[0])
        big = np.kron(rgb[i], np.ones((8, 8, 1), np.uint8))  # 8x8 -> 64x64, nearest: the digit as drawn
        name = f"digit-{want}.png"
        (out / name).write_bytes(png(big))
        items.append({"title": f"Digit {want}", "file": f"classifier/{name}", "expect": str(want)})
    from skimage import data

    (out / "cat.jpg").write_bytes(jpeg(resized(data.chelsea(), 200)))
    items.append({"title": "Cat photo", "file": "classifier/cat.jpg"})
    return items


def srgan_examples(out: Path) -> list[dict]:
    from skimage import data

    (out / "coffee.png").write_bytes(png(resized(data.coffee(), 96)))
    (out / "astronaut.png").write_bytes(png(resized(data.astronaut(), 80)))
    (out / "cat-face.png").write_bytes(png(np.ascontiguousarray(resized(data.chelsea(), 180)[10:90, 60:140])))
    return [
        {"title": "Coffee", "file": "srgan/coffee.png"},
        {"title": "Astronaut", "file": "srgan/astronaut.png"},
        {"title": "Cat's face", "file": "srgan/cat-face.png"},
    ]


def unet_examples(out: Path) -> list[dict]:
    from common.mri import MODALITIES
    from training.unet.synth import Generator, write_nifti

    gen = Generator(seed=2026)
    case = gen.slice(3, (96, 96), lesions=2)
    slice_files = {}
    for m, mod in enumerate(MODALITIES):
        plane = case.image[:, :, 0, m]
        data16 = np.clip(np.rint(plane), 0, 65535).astype(np.uint16)
        name = f"slice_{mod}.png"
        Image.fromarray(data16).save(out / name, format="PNG", optimize=True)
        slice_files[mod] = f"unet/{name}"
    vol = gen.volume(5, (64, 64, 16), lesions=2)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_nifti(vol, Path(tmp), "case")
        volume_files = {}
        for mod in MODALITIES:
            name = f"volume_{mod}.nii.gz"
            shutil.copyfile(paths[mod], out / name)
            volume_files[mod] = f"unet/{name}"
    return [
        {"title": "Axial slice, 96×96 (4 PNGs)", "kind": "slice", "files": slice_files, "spacing": "1.0,1.0"},
        {"title": "Volume, 64×64×16 (4 NIfTI)", "kind": "volume", "files": volume_files},
    ]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    index = {"antispam": ANTISPAM, "text2image": [{"title": c, "caption": c} for c in CAPTIONS]}
    for family, make in (("classifier", classifier_examples), ("srgan", srgan_examples), ("unet", unet_examples)):
        d = OUT / family
        if d.exists():
            shutil.rmtree(d)
        d.mkdir()
        index[family] = make(d)
    (OUT / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT.relative_to(ROOT)}: {sum(1 for p in OUT.rglob('*') if p.is_file())} files, {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
