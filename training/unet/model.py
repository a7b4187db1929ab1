"""The book's U-Net (chapter 11), dice loss and joint augmentation.

Architecture as in the book's `u_net`: two 3x3 ReLU convolutions per level with 64, 128, 256, 512 channels and
a 1024-channel bottom, 2x2 max-pooling down, 3x3 stride-2 transposed convolutions up, skip concatenation, a
1x1 sigmoid output, no batch norm. `width` scales every level (64 = the book, 8 = tiny): the graph is fully
convolutional, so one exported model serves any H, W that is a multiple of 16.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def build_unet(width: int = 64, depth: int = 4, channels: int = 4):
    import keras
    from keras import layers

    inputs = keras.Input((None, None, channels), name="images")
    x = inputs
    skips = []
    for level in range(depth):
        w = width * 2**level
        x = layers.Conv2D(w, 3, padding="same", activation="relu", name=f"conv{level + 1}_1")(x)
        x = layers.Conv2D(w, 3, padding="same", activation="relu", name=f"conv{level + 1}_2")(x)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level + 1}")(x)
    w = width * 2**depth
    x = layers.Conv2D(w, 3, padding="same", activation="relu", name=f"conv{depth + 1}_1")(x)
    x = layers.Conv2D(w, 3, padding="same", activation="relu", name=f"conv{depth + 1}_2")(x)
    for level in reversed(range(depth)):
        w = width * 2**level
        x = layers.Conv2DTranspose(w, 3, strides=2, padding="same", name=f"deconv{level + 1}")(x)
        x = layers.Concatenate(axis=-1, name=f"concat{level + 1}")([x, skips[level]])
        x = layers.Conv2D(w, 3, padding="same", activation="relu", name=f"uconv{level + 1}_1")(x)
        x = layers.Conv2D(w, 3, padding="same", activation="relu", name=f"uconv{level + 1}_2")(x)
    out = layers.Conv2D(1, 1, activation="sigmoid", name="probabilities")(x)
    return keras.Model(inputs, out, name=f"unet_w{width}")


def dice_loss(y_true, y_pred, smooth: float = 1e-5):
    """1 - soft Sørensen dice over the whole batch (the book's `1 - tl.cost.dice_coe(out, y, axis=[0,1,2,3])`)."""
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    inse = ops.sum(y_true * y_pred)
    denom = ops.sum(y_true) + ops.sum(y_pred)
    return 1.0 - (2.0 * inse + smooth) / (denom + smooth)


# ------------------------------------------------------------------ joint augmentation (NumPy, image and mask together)


def augment(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator, *, rotation_deg: float = 20.0,
            elastic_alpha: float = 8.0, elastic_sigma: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Flip, rotate and elastically deform an [H, W, C] image and its [H, W] mask with ONE displacement field,
    so the label stays exact (the book uses tl.prepro's flip/rotation/elastic on image and label together).
    Images are interpolated linearly, the mask with nearest neighbour."""
    h, w = mask.shape
    if rng.random() < 0.5:
        image, mask = image[::-1], mask[::-1]
    if rng.random() < 0.5:
        image, mask = image[:, ::-1], mask[:, ::-1]
    theta = np.deg2rad(rng.uniform(-rotation_deg, rotation_deg))
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    cy, cx = (h - 1) / 2, (w - 1) / 2
    c, s = np.cos(theta), np.sin(theta)
    src_y = c * (yy - cy) - s * (xx - cx) + cy
    src_x = s * (yy - cy) + c * (xx - cx) + cx
    if elastic_alpha > 0:
        dy = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)).astype(np.float32), elastic_sigma) * elastic_alpha * elastic_sigma
        dx = ndimage.gaussian_filter(rng.uniform(-1, 1, (h, w)).astype(np.float32), elastic_sigma) * elastic_alpha * elastic_sigma
        src_y, src_x = src_y + dy, src_x + dx
    coords = np.stack([src_y, src_x])
    out = np.empty_like(image)
    for ch in range(image.shape[-1]):
        out[..., ch] = ndimage.map_coordinates(image[..., ch], coords, order=1, mode="constant", cval=0.0)
    out_mask = ndimage.map_coordinates(mask.astype(np.float32), coords, order=0, mode="constant", cval=0.0)
    return out, out_mask.astype(mask.dtype)
