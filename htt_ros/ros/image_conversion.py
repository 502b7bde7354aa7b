"""sensor_msgs images to the RGB frames the network takes, without cv_bridge.

Follows cv_bridge's conventions: the array is built from ``encoding``, ``height``, ``width``,
``step`` (row padding is cropped) and ``is_bigendian``, never by reshaping ``data`` blindly.
Where cv_bridge has no colour conversion (16UC1, 32FC1, 8UC3) this module documents its own.

Conversion to 8-bit RGB, by encoding:

- ``rgb8`` is returned as a read-only view of ``msg.data`` (zero copy); everything else is a
  new array.
- ``bgr8``, ``rgba8``, ``bgra8``: channels reordered, alpha dropped. ``8UC3`` and ``8UC4`` are
  read as BGR and BGRA (what ``cv2_to_imgmsg(image, "passthrough")`` publishes for an OpenCV
  image), ``8UC1`` as ``mono8``.
- ``yuv422`` (alias ``uyvy``) is UYVY and ``yuv422_yuy2`` (alias ``yuyv``) is YUYV, as in ROS;
  both need an even width.
- 16-bit (``mono16``, ``16UC1``, ``rgb16``, ``bgr16``, ``rgba16``, ``bgra16``): scaled by
  255/65535 and rounded, i.e. ``(v + 128) // 257``, cv_bridge's 16-to-8-bit rule. It is fixed,
  so brightness does not flicker from frame to frame; a depth image in millimetres therefore
  comes out dark.
- ``32FC1`` (depth in metres or a float intensity): NaN, infinities and negative values become
  0, and the rest is scaled so that the frame's largest value is 255.
- Grey images are repeated into the three channels.
"""

from collections.abc import Callable

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image


class ImageConversionError(ValueError):
    """An image message that cannot be turned into an RGB frame; the message says why and how
    the publisher can fix it."""


# Encoding -> (numpy base type, channels).
_LAYOUTS: dict[str, tuple[str, int]] = {
    "rgb8": ("u1", 3),
    "bgr8": ("u1", 3),
    "8UC3": ("u1", 3),
    "rgba8": ("u1", 4),
    "bgra8": ("u1", 4),
    "8UC4": ("u1", 4),
    "mono8": ("u1", 1),
    "8UC1": ("u1", 1),
    "yuv422": ("u1", 2),
    "uyvy": ("u1", 2),
    "yuv422_yuy2": ("u1", 2),
    "yuyv": ("u1", 2),
    "mono16": ("u2", 1),
    "16UC1": ("u2", 1),
    "rgb16": ("u2", 3),
    "bgr16": ("u2", 3),
    "rgba16": ("u2", 4),
    "bgra16": ("u2", 4),
    "32FC1": ("f4", 1),
}

SUPPORTED_ENCODINGS: tuple[str, ...] = tuple(_LAYOUTS)

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_msg_to_array(msg: Image) -> np.ndarray:
    """The pixels of ``msg`` as stored, like cv_bridge's ``imgmsg_to_cv2(msg, "passthrough")``.

    Returns a read-only ``(H, W)`` array for one channel, else ``(H, W, C)``, of the encoding's
    dtype (uint8, uint16 or float32) in native byte order. Row padding is cropped; the result is
    a view of ``msg.data`` unless the byte order had to be swapped or a step that is not a
    multiple of the pixel size left the rows unaligned.

    :raises ImageConversionError: for an encoding not in :data:`SUPPORTED_ENCODINGS`, a
        zero-size image, a ``step`` shorter than one row of pixels, or ``data`` shorter than
        ``step * height``.
    """
    layout = _LAYOUTS.get(msg.encoding)
    if layout is None:
        raise ImageConversionError(
            f"unsupported encoding {msg.encoding!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}. "
            f"Configure the camera driver for one of these (rgb8 or bgr8 is best) or convert "
            f"the stream first (e.g. image_proc's debayer for bayer_* images)"
        )
    base, channels = layout
    height, width, step = msg.height, msg.width, msg.step
    if height == 0 or width == 0:
        raise ImageConversionError(
            f"zero-size image ({width}x{height}, width x height); the publisher sent an empty "
            f"frame: check that the camera driver is streaming"
        )
    dtype = np.dtype(base).newbyteorder(">" if msg.is_bigendian else "<")
    row_bytes = width * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageConversionError(
            f"step {step} is smaller than one row of {msg.encoding} pixels (width {width} x "
            f"{channels} channels x {dtype.itemsize} bytes = {row_bytes}); the publisher must set "
            f"step to the row length in bytes, padding included"
        )
    if len(msg.data) < step * height:
        raise ImageConversionError(
            f"data has {len(msg.data)} bytes, fewer than step x height = {step} x {height} = "
            f"{step * height}; the message is truncated or the publisher's step/height are wrong"
        )
    rows = np.frombuffer(msg.data, np.uint8, count=step * height).reshape(height, step)
    # Crop the padding of each row, then read the row bytes as pixels: still a view.
    pixels = rows[:, :row_bytes].view(dtype)
    shape = (height, width) if channels == 1 else (height, width, channels)
    array = pixels.reshape(shape)
    if not (dtype.isnative and array.flags.aligned):
        # Swap to native order; also copy rows an odd step left unaligned (OpenCV misreads them).
        array = array.astype(dtype.newbyteorder("="))
    array.flags.writeable = False
    return array


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """uint16: ``round(v * 255 / 65535)``; float: see the module docstring; uint8: unchanged."""
    if array.dtype == np.uint16:
        return cv2.convertScaleAbs(array, alpha=255.0 / 65535.0)
    if array.dtype == np.float32:
        clean = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
        np.maximum(clean, 0.0, out=clean)
        peak = float(clean.max())
        return cv2.convertScaleAbs(clean, alpha=255.0 / peak if peak > 0.0 else 0.0)
    return array


def _colour(code: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda array: cv2.cvtColor(_to_uint8(array), code)


_TO_RGB: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "rgb8": lambda array: array,
    "rgb16": _to_uint8,
    "bgr8": _colour(cv2.COLOR_BGR2RGB),
    "8UC3": _colour(cv2.COLOR_BGR2RGB),
    "bgr16": _colour(cv2.COLOR_BGR2RGB),
    "rgba8": _colour(cv2.COLOR_RGBA2RGB),
    "rgba16": _colour(cv2.COLOR_RGBA2RGB),
    "bgra8": _colour(cv2.COLOR_BGRA2RGB),
    "8UC4": _colour(cv2.COLOR_BGRA2RGB),
    "bgra16": _colour(cv2.COLOR_BGRA2RGB),
    "mono8": _colour(cv2.COLOR_GRAY2RGB),
    "8UC1": _colour(cv2.COLOR_GRAY2RGB),
    "mono16": _colour(cv2.COLOR_GRAY2RGB),
    "16UC1": _colour(cv2.COLOR_GRAY2RGB),
    "32FC1": _colour(cv2.COLOR_GRAY2RGB),
    "yuv422": _colour(cv2.COLOR_YUV2RGB_UYVY),
    "uyvy": _colour(cv2.COLOR_YUV2RGB_UYVY),
    "yuv422_yuy2": _colour(cv2.COLOR_YUV2RGB_YUYV),
    "yuyv": _colour(cv2.COLOR_YUV2RGB_YUYV),
}


def image_msg_to_rgb(msg: Image) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 RGB frame of ``msg``, for any encoding in
    :data:`SUPPORTED_ENCODINGS` (conversion rules in the module docstring).

    The result may be a read-only view of ``msg.data`` (rgb8): copy it before drawing on it.

    :raises ImageConversionError: as :func:`image_msg_to_array` does, and for a YUV 4:2:2 image
        of odd width.
    """
    array = image_msg_to_array(msg)
    if array.ndim == 3 and array.shape[2] == 2 and msg.width % 2:
        raise ImageConversionError(
            f"{msg.encoding} packs two pixels in four bytes, so its width must be even, got "
            f"{msg.width}; configure the camera for an even width"
        )
    return _TO_RGB[msg.encoding](array)


def compressed_msg_to_rgb(msg: CompressedImage) -> np.ndarray:
    """An ``(H, W, 3)`` uint8 RGB frame of a JPEG or PNG ``CompressedImage``.

    The format is recognised by the data's magic bytes, not by the free-text ``format`` field.
    Grey images are repeated into three channels, alpha is dropped, 16-bit PNG is reduced to
    8 bits.

    :raises ImageConversionError: when ``data`` is empty, is neither JPEG nor PNG (e.g.
        ``compressedDepth``), or cannot be decoded.
    """
    data = np.frombuffer(msg.data, np.uint8)
    if data.size == 0:
        raise ImageConversionError(
            f"compressed image (format {msg.format!r}) has no data; the publisher sent an empty "
            f"frame: check that the camera driver is streaming"
        )
    head = data[: len(_PNG_MAGIC)].tobytes()
    if head.startswith(_JPEG_MAGIC):
        kind = "JPEG"
    elif head.startswith(_PNG_MAGIC):
        kind = "PNG"
    else:
        raise ImageConversionError(
            f"compressed image (format {msg.format!r}) starts with bytes {head.hex(' ')}, which "
            f"are neither JPEG (ff d8 ff) nor PNG (89 50 4e 47 0d 0a 1a 0a); publish jpeg or png "
            f"(image_transport 'compressed' with format jpeg/png), or subscribe to the raw image"
        )
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageConversionError(
            f"cannot decode the {kind} data ({data.size} bytes, format {msg.format!r}): it is "
            f"truncated or corrupt; check the publisher and the network (a lossy link drops "
            f"large messages under best-effort QoS)"
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
