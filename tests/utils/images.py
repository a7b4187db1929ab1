"""PNG helpers for image-family tests and eval scripts: arrays to PNG bytes and base64 PNG back to arrays."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def unpng(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))))
