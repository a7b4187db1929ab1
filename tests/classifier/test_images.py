"""common.images: every accepted format and mode decodes to the expected upright RGB; bad input is refused
with a specific kind and a message naming the accepted formats."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from common import images as im

RED = (200, 30, 10)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,tol", [("PNG", 0), ("BMP", 0), ("GIF", 0), ("TIFF", 0), ("JPEG", 8), ("WEBP", 8)])
def test_every_format_decodes_to_rgb(fmt: str, tol: int) -> None:
    arr = im.decode_image(encode(Image.new("RGB", (31, 17), RED), fmt))
    assert arr.shape == (17, 31, 3) and arr.dtype == np.uint8
    assert np.abs(arr.astype(int) - RED).max() <= tol


def test_gif_first_frame_only() -> None:
    frames = [Image.new("P", (8, 8), i) for i in (1, 2)]
    pal = [0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * (768 - 9)
    for f in frames:
        f.putpalette(pal)
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert tuple(im.decode_image(buf.getvalue())[0, 0]) == (255, 0, 0)


@pytest.mark.parametrize("orientation,expected_shape,corner", [
    (1, (2, 3), (255, 0, 0)),  # as stored
    (3, (2, 3), (0, 0, 255)),  # rotated 180
    (6, (3, 2), (0, 255, 0)),  # rotate 90 CW to display: bottom-left goes top-left
    (8, (3, 2), (255, 255, 255)),  # rotate 90 CCW: top-right goes top-left
])
def test_exif_orientation(orientation: int, expected_shape: tuple, corner: tuple) -> None:
    arr = np.zeros((2, 3, 3), np.uint8)
    arr[0, 0] = (255, 0, 0)
    arr[0, 2] = (255, 255, 255)
    arr[1, 0] = (0, 255, 0)
    arr[1, 2] = (0, 0, 255)
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = im.decode_image(encode(img, "PNG", exif=exif))
    assert out.shape[:2] == expected_shape
    assert tuple(out[0, 0]) == corner


def test_alpha_composited_over_white() -> None:
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., :3] = (0, 0, 0)
    rgba[0, 0, 3] = 0  # transparent -> white
    rgba[0, 1, 3] = 255  # opaque black
    rgba[1, :, 3] = 128  # half -> 127
    for fmt in ("PNG", "WEBP", "TIFF"):
        out = im.decode_image(encode(Image.fromarray(rgba, "RGBA"), fmt, **({"lossless": True} if fmt == "WEBP" else {})))
        assert tuple(out[0, 0]) == (255, 255, 255) and tuple(out[0, 1]) == (0, 0, 0)
        assert tuple(out[1, 0]) == (127, 127, 127)
    assert im.decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), keep_alpha=True).shape == (2, 2, 4)


@pytest.mark.parametrize("mode", ["L", "1", "P", "LA", "CMYK", "I;16", "RGBA"])
def test_modes_become_rgb(mode: str) -> None:
    if mode == "I;16":
        img = Image.fromarray(np.full((4, 5), 65535, np.uint16))
        data, expected = encode(img, "PNG"), (255, 255, 255)
    elif mode == "CMYK":
        data, expected = encode(Image.new("CMYK", (5, 4), (0, 255, 255, 0)), "JPEG", quality=100), (255, 0, 0)
    elif mode == "LA":
        data, expected = encode(Image.new("LA", (5, 4), (0, 0)), "PNG"), (255, 255, 255)
    elif mode == "P":
        p = Image.new("P", (5, 4), 1)
        p.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
        data, expected = encode(p, "PNG"), (10, 200, 30)
    elif mode == "1":
        data, expected = encode(Image.new("1", (5, 4), 1), "BMP"), (255, 255, 255)
    elif mode == "RGBA":
        data, expected = encode(Image.new("RGBA", (5, 4), (10, 20, 30, 255)), "PNG"), (10, 20, 30)
    else:
        data, expected = encode(Image.new("L", (5, 4), 77), "PNG"), (77, 77, 77)
    assert Image.open(io.BytesIO(data)).mode.startswith(mode[0])
    out = im.decode_image(data)
    assert out.shape == (4, 5, 3)
    assert np.abs(out[0, 0].astype(int) - expected).max() <= 2


def test_sixteen_bit_scaled_to_eight() -> None:
    img = Image.fromarray(np.array([[0, 257 * 100, 65535]], np.uint16))
    assert im.decode_image(encode(img, "PNG"))[0, :, 0].tolist() == [0, 100, 255]


@pytest.mark.parametrize("make,kind", [
    (lambda: b"", "empty"),
    (lambda: b"this is plain text, not a picture", "not_an_image"),
    (lambda: encode(Image.new("RGB", (64, 64), RED), "PNG")[:60], "truncated"),
    (lambda: encode(Image.new("RGB", (64, 64), RED), "JPEG")[:300], "truncated"),
    (lambda: encode(Image.new("F", (4, 4)), "TIFF"), "unsupported_mode"),
    (lambda: encode(Image.new("RGB", (8, 8)), "PCX"), "unsupported_format"),
])
def test_bad_inputs_have_specific_kinds(make, kind: str) -> None:
    with pytest.raises(im.ImageDecodeError) as e:
        im.decode_image(make())
    assert e.value.kind == kind
    if kind != "too_large":
        assert "JPEG" in str(e.value) and "WebP" in str(e.value)


def test_decompression_bomb_refused_from_header() -> None:
    bomb = encode(Image.new("1", (6000, 6000)), "PNG")  # 36 MP in a few KB
    assert len(bomb) < 100_000
    with pytest.raises(im.ImageDecodeError) as e:
        im.decode_image(bomb, im.ImageLimits(max_pixels=10_000_000))
    assert e.value.kind == "too_large" and "6000x6000" in str(e.value)
    with pytest.raises(im.ImageDecodeError, match="per side"):
        im.decode_image(encode(Image.new("L", (3000, 2)), "PNG"), im.ImageLimits(max_side=2048))
    with pytest.raises(im.ImageDecodeError, match="bytes"):
        im.decode_image(bomb, im.ImageLimits(max_bytes=100))


def test_resize_policies() -> None:
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[:, 50:150] = 255  # the central square is white, the sides black
    stretched = im.preprocess_image(rgb, im.VGG16_POLICY)
    assert stretched.shape == (224, 224, 3) and stretched.dtype == np.float32
    assert stretched[112, 0, 0] == 0  # sides kept (stretch)
    cropped = im.preprocess_image(rgb, im.INCEPTION_V3_POLICY)
    assert cropped.shape == (299, 299, 3) and cropped.min() == 255  # centre crop keeps only the square
    assert im.ResizePolicy.from_dict(im.INCEPTION_V3_POLICY.as_dict()) == im.INCEPTION_V3_POLICY


def test_digits_to_rgb() -> None:
    d = np.zeros((1, 8, 8))
    d[0, 0, 0] = 16
    out = im.digits_to_rgb(d)
    assert out.shape == (1, 8, 8, 3) and out[0, 0, 0].tolist() == [255] * 3 and out[0, 1, 1].tolist() == [0] * 3


def _frames(mode: str = "RGB") -> list[Image.Image]:
    return [Image.new(mode, (8, 8), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "TIFF", "WEBP"])
def test_multi_frame_images_use_the_first_frame(fmt: str) -> None:
    """Animated GIF/APNG/WebP and multi-page TIFF: the first frame (documented; the decision of issue 25)."""
    frames = _frames()
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], **({"lossless": True} if fmt == "WEBP" else {}))
    with Image.open(io.BytesIO(data)) as img:
        assert img.n_frames == 3
    arr = im.decode_image(data)
    assert arr.shape == (8, 8, 3) and np.abs(arr.astype(int) - (255, 0, 0)).max() <= 2


@pytest.mark.parametrize("fmt,kw", [("PNG", {}), ("JPEG", {"quality": 90}), ("JPEG", {"progressive": True}), ("GIF", {}),
                                    ("WEBP", {}), ("TIFF", {"compression": "tiff_deflate"}), ("BMP", {})])
def test_every_prefix_is_refused_as_truncated_or_decodes_identically(fmt: str, kw: dict) -> None:
    """Cut anywhere mid-stream: a specific error, or (only a trailer such as PNG IEND / JPEG EOI lost) the same
    pixels as the whole file. Never different pixels, never another exception type."""
    rng = np.random.default_rng(0)
    arr = np.repeat(np.repeat(rng.integers(0, 255, (6, 6, 3), dtype=np.uint8), 6, 0), 6, 1)
    full = encode(Image.fromarray(arr), fmt, **kw)
    ref = im.decode_image(full)
    for cut in range(1, len(full), max(1, len(full) // 150)):
        try:
            got = im.decode_image(full[:cut])
        except im.ImageDecodeError as e:
            assert e.kind in ("truncated", "not_an_image", "unsupported_format"), (cut, e.kind)
            continue
        np.testing.assert_array_equal(got, ref, err_msg=f"{fmt} cut at {cut}/{len(full)}")
