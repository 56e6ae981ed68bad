"""``keras.ops.image``: ``resize`` (bilinear / nearest, as ``tf.image.resize``), ``rgb_to_grayscale``,
``pad_images`` and ``crop_images`` with Keras 3's arguments (``keras/src/ops/image.py``). The other
Keras image ops (affine and perspective transforms, blurs, patches, colour spaces) are not here yet.

>>> import numpy as np, tapegrad as tg
>>> tg.keras.ops.image.resize(np.ones((1, 2, 2, 3), "float32"), (4, 4)).shape
TensorShape([1, 4, 4, 3])
"""

from .core import _float_t, _ops, _t

__all__ = ["resize", "rgb_to_grayscale", "pad_images", "crop_images"]


def _to_nhwc(images, data_format):
    x = _t(images)
    nd = len(x.shape.as_list())
    if nd not in (3, 4):
        raise ValueError(
            f"Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received: images.shape={tuple(x.shape.as_list())}"
        )
    if nd == 3:
        x = _ops.expand_dims(x, 0)
    if data_format == "channels_first":
        x = _ops.transpose(x, [0, 2, 3, 1])
    return x, nd == 3


def _from_nhwc(x, single, data_format):
    if data_format == "channels_first":
        x = _ops.transpose(x, [0, 3, 1, 2])
    return x[0] if single else x


def resize(
    images,
    size,
    interpolation="bilinear",
    antialias=False,
    crop_to_aspect_ratio=False,
    pad_to_aspect_ratio=False,
    fill_mode="constant",
    fill_value=0.0,
    data_format=None,
):
    """``images`` resized to ``size`` (height, width) with half-pixel centres, as ``tf.image.resize``."""
    from ..layers.preprocessing import _resize_nhwc

    if interpolation not in ("bilinear", "nearest"):
        raise NotImplementedError(
            f"keras.ops.image.resize(interpolation={interpolation!r}) is not supported by "
            "tapegrad yet (bilinear and nearest are)."
        )
    if antialias or crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise NotImplementedError(
            "keras.ops.image.resize: antialias, crop_to_aspect_ratio and pad_to_aspect_ratio "
            "are not supported by tapegrad yet."
        )
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers. Received: size={size}")
    x, single = _to_nhwc(images, data_format)
    x = _float_t(x)
    return _from_nhwc(_resize_nhwc(x, (int(size[0]), int(size[1])), interpolation), single, data_format)


def rgb_to_grayscale(images, data_format=None):
    """Luma ``0.2989 R + 0.5870 G + 0.1140 B`` as a single channel, in the images' dtype."""
    x, single = _to_nhwc(images, data_format)
    dtype = x.dtype.name
    xf = _float_t(x)
    w = _ops.constant([0.2989, 0.5870, 0.1140], dtype=xf.dtype)
    gray = _ops.expand_dims(_ops.tensordot(xf, w, [[3], [0]]), -1)
    return _from_nhwc(_ops.cast(gray, dtype), single, data_format)


def _sides(name, lo, hi, target, size, crop=False):
    """The two margins from two of (lo, hi, target); ``target`` is the size after padding/cropping."""
    if [lo, hi, target].count(None) != 1:
        raise ValueError(
            f"Must specify exactly two of {name[0]}, {name[1]}, {name[2]}. Received: {name[0]}={lo}, "
            f"{name[1]}={hi}, {name[2]}={target}"
        )
    if target is None:
        return int(lo), int(hi)
    rest = (size - target) if crop else (target - size)
    if lo is None:
        lo = rest - hi
    if hi is None:
        hi = rest - lo
    return int(lo), int(hi)


def pad_images(
    images,
    top_padding=None,
    left_padding=None,
    bottom_padding=None,
    right_padding=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """``images`` padded with zeros (two of top/bottom/target height, two of left/right/target width)."""
    x, single = _to_nhwc(images, data_format)
    _, h, w, _ = x.shape.as_list()
    top, bottom = _sides(
        ("top_padding", "bottom_padding", "target_height"), top_padding, bottom_padding, target_height, h
    )
    left, right = _sides(
        ("left_padding", "right_padding", "target_width"), left_padding, right_padding, target_width, w
    )
    if min(top, bottom, left, right) < 0:
        raise ValueError("The padding must be non-negative (the target size is smaller than the images).")
    return _from_nhwc(_ops.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]), single, data_format)


def crop_images(
    images,
    top_cropping=None,
    left_cropping=None,
    bottom_cropping=None,
    right_cropping=None,
    target_height=None,
    target_width=None,
    data_format=None,
):
    """``images`` cropped (two of top/bottom/target height, two of left/right/target width)."""
    x, single = _to_nhwc(images, data_format)
    _, h, w, _ = x.shape.as_list()
    top, bottom = _sides(
        ("top_cropping", "bottom_cropping", "target_height"), top_cropping, bottom_cropping, target_height, h, crop=True
    )
    left, right = _sides(
        ("left_cropping", "right_cropping", "target_width"), left_cropping, right_cropping, target_width, w, crop=True
    )
    if min(top, bottom, left, right) < 0 or top + bottom >= h or left + right >= w:
        raise ValueError(f"The cropping ({top}, {bottom}, {left}, {right}) does not fit images of size {h}x{w}.")
    return _from_nhwc(x[:, top : h - bottom, left : w - right, :], single, data_format)
