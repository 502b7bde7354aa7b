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
- ``nv21`` (4:2:0) and ``nv24`` (4:4:4) are semi-planar: ``height`` rows of Y, ``step`` bytes
  each, then the interleaved chroma rows (``nv21``: ``height / 2`` rows of V, U pairs, ``step``
  bytes each, even width and height; ``nv24``: ``height`` rows of U, V pairs, ``2 * step`` bytes
  each). Both use OpenCV's BT.601 conversion of the other YUV encodings.
- ``bayer_rggb8``, ``bayer_bggr8``, ``bayer_gbrg8``, ``bayer_grbg8`` and their 16-bit forms are
  demosaiced with OpenCV's bilinear demosaicing (named after the pattern's first row, as in
  ROS; 16-bit is demosaiced first, then reduced as below).
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


# Bayer patterns (ROS names them by the first row of 2x2 cells) -> OpenCV demosaicing to RGB.
_BAYER = {
    "rggb": cv2.COLOR_BayerRGGB2RGB,
    "bggr": cv2.COLOR_BayerBGGR2RGB,
    "gbrg": cv2.COLOR_BayerGBRG2RGB,
    "grbg": cv2.COLOR_BayerGRBG2RGB,
}
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
    **{f"bayer_{p}{bits}": (base, 1) for p in _BAYER for bits, base in ((8, "u1"), (16, "u2"))},
}
# Semi-planar YUV: encoding -> chroma bytes per Y byte (the rows after the Y plane).
_SEMI_PLANAR = {"nv21": 0.5, "nv24": 2.0}

SUPPORTED_ENCODINGS: tuple[str, ...] = (*_LAYOUTS, *_SEMI_PLANAR)

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_msg_to_array(msg: Image) -> np.ndarray:
    """The pixels of ``msg`` as stored, like cv_bridge's ``imgmsg_to_cv2(msg, "passthrough")``.

    Returns a read-only ``(H, W)`` array for one channel, else ``(H, W, C)``, of the encoding's
    dtype (uint8, uint16 or float32) in native byte order. Row padding is cropped; the result is
    a view of ``msg.data`` unless the byte order had to be swapped or a step that is not a
    multiple of the pixel size left the rows unaligned. ``nv21`` comes as its Y plane above its
    chroma rows ``(H * 3 / 2, W)``, ``nv24`` as ``(H, W, 3)`` Y, U, V (new arrays).

    :raises ImageConversionError: for an encoding not in :data:`SUPPORTED_ENCODINGS`, a
        zero-size image, a ``step`` shorter than one row of pixels, or ``data`` shorter than
        ``step * height``.
    """
    layout = _LAYOUTS.get(msg.encoding)
    if msg.encoding in _SEMI_PLANAR:
        layout = ("u1", 1)
    if layout is None:
        raise ImageConversionError(
            f"unsupported encoding {msg.encoding!r}; supported: {', '.join(SUPPORTED_ENCODINGS)}. "
            f"Configure the camera driver for one of these (rgb8 or bgr8 is best) or convert "
            f"the stream first (e.g. image_proc or cv_bridge)"
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
    rows_total = height + round(height * _SEMI_PLANAR.get(msg.encoding, 0.0))
    if len(msg.data) < step * rows_total:
        raise ImageConversionError(
            f"data has {len(msg.data)} bytes, fewer than step x rows = {step} x {rows_total} = "
            f"{step * rows_total}; the message is truncated or the publisher's step/height are "
            f"wrong"
        )
    if msg.encoding in _SEMI_PLANAR:
        return _semi_planar(msg.encoding, msg.data, width, height, step)
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


def _semi_planar(encoding: str, data, width: int, height: int, step: int) -> np.ndarray:
    """The Y plane above the chroma rows, as OpenCV's NV21 conversion takes them ``(H * 3 / 2,
    W)``; nv24 as ``(H, W, 3)`` Y, U, V."""
    if encoding == "nv21" and (width % 2 or height % 2):
        raise ImageConversionError(
            f"nv21 subsamples chroma 2x2, so its width and height must be even, got "
            f"{width}x{height}; configure the camera for an even size"
        )
    planes = np.frombuffer(data, np.uint8)
    y = planes[: step * height].reshape(height, step)[:, :width]
    chroma = planes[step * height :]
    if encoding == "nv21":
        vu = chroma[: step * height // 2].reshape(height // 2, step)[:, :width]
        array = np.vstack([y, vu])
    else:
        uv = chroma[: 2 * step * height].reshape(height, 2 * step)[:, : 2 * width]
        array = np.dstack([y, uv[:, 0::2], uv[:, 1::2]])
    array.flags.writeable = False
    return array


def _yuv444_to_rgb(yuv: np.ndarray) -> np.ndarray:
    """Y, U, V per pixel to RGB with OpenCV's UYVY (BT.601) conversion: each pixel becomes a
    UYVY pair of itself, and every second output pixel is kept."""
    height, width = yuv.shape[:2]
    pairs = np.empty((height, width, 4), np.uint8)
    pairs[..., 0], pairs[..., 1], pairs[..., 2], pairs[..., 3] = (
        yuv[..., 1],
        yuv[..., 0],
        yuv[..., 2],
        yuv[..., 0],
    )
    rgb = cv2.cvtColor(pairs.reshape(height, 2 * width, 2), cv2.COLOR_YUV2RGB_UYVY)
    return np.ascontiguousarray(rgb[:, 0::2])


def _demosaic(code: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda array: _to_uint8(cv2.cvtColor(array, code))


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
    "nv21": _colour(cv2.COLOR_YUV2RGB_NV21),
    "nv24": _yuv444_to_rgb,
    **{f"bayer_{p}{bits}": _demosaic(code) for p, code in _BAYER.items() for bits in (8, 16)},
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
    try:
        return _TO_RGB[msg.encoding](array)
    except cv2.error as error:  # e.g. an image too small to demosaic
        raise ImageConversionError(
            f"OpenCV cannot convert this {msg.width}x{msg.height} {msg.encoding} image: "
            f"{str(error).strip().splitlines()[-1]}; check the camera driver's output"
        ) from error


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
