"""Image messages to RGB, encoding by encoding, against arrays written out by hand."""

import struct

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from htt_ros.ros.image_conversion import (
    SUPPORTED_ENCODINGS,
    ImageConversionError,
    compressed_msg_to_rgb,
    image_msg_to_array,
    image_msg_to_rgb,
)

PAD = b"\xee"  # padding byte: shows up as 238 if a row's padding is not cropped


def image(
    encoding: str, width: int, rows: list[bytes], pad: int = 0, bigendian: bool = False
) -> Image:
    """An Image whose rows are the given bytes, each followed by ``pad`` padding bytes."""
    step = len(rows[0]) + pad
    return Image(
        height=len(rows),
        width=width,
        encoding=encoding,
        is_bigendian=int(bigendian),
        step=step,
        data=b"".join(row + PAD * pad for row in rows),
    )


def u16(values: list[int], order: str) -> bytes:
    return b"".join(v.to_bytes(2, order) for v in values)


def f32(values: list[float], order: str) -> bytes:
    return struct.pack(("<" if order == "little" else ">") + "f" * len(values), *values)


# 3 x 2 (width x height) RGB test picture, written out pixel by pixel.
RGB = np.array(
    [
        [[10, 20, 30], [40, 50, 60], [70, 80, 90]],
        [[11, 21, 31], [41, 51, 61], [71, 81, 91]],
    ],
    np.uint8,
)
RGB_ROWS = [
    bytes([10, 20, 30, 40, 50, 60, 70, 80, 90]),
    bytes([11, 21, 31, 41, 51, 61, 71, 81, 91]),
]
BGR_ROWS = [
    bytes([30, 20, 10, 60, 50, 40, 90, 80, 70]),
    bytes([31, 21, 11, 61, 51, 41, 91, 81, 71]),
]
RGBA_ROWS = [
    bytes([10, 20, 30, 1, 40, 50, 60, 2, 70, 80, 90, 3]),
    bytes([11, 21, 31, 4, 41, 51, 61, 5, 71, 81, 91, 6]),
]
BGRA_ROWS = [
    bytes([30, 20, 10, 1, 60, 50, 40, 2, 90, 80, 70, 3]),
    bytes([31, 21, 11, 4, 61, 51, 41, 5, 91, 81, 71, 6]),
]


def grey(values: list[list[int]]) -> np.ndarray:
    """The RGB image of a grey one: each value in all three channels."""
    return np.repeat(np.array(values, np.uint8)[:, :, None], 3, axis=2)


@pytest.mark.parametrize("pad", [0, 5])
@pytest.mark.parametrize(
    ("encoding", "rows"),
    [
        ("rgb8", RGB_ROWS),
        ("bgr8", BGR_ROWS),
        ("8UC3", BGR_ROWS),
        ("rgba8", RGBA_ROWS),
        ("bgra8", BGRA_ROWS),
        ("8UC4", BGRA_ROWS),
    ],
)
def test_8bit_colour(encoding: str, rows: list[bytes], pad: int) -> None:
    rgb = image_msg_to_rgb(image(encoding, 3, rows, pad))
    assert rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, RGB)


def test_rgb8_is_a_read_only_view_of_the_message() -> None:
    msg = image("rgb8", 3, RGB_ROWS, pad=3)
    rgb = image_msg_to_rgb(msg)
    assert np.shares_memory(rgb, np.frombuffer(msg.data, np.uint8))
    assert not rgb.flags.writeable


@pytest.mark.parametrize("encoding", ["mono8", "8UC1"])
def test_mono8(encoding: str) -> None:
    rows = [bytes([0, 128, 255]), bytes([1, 2, 3])]
    rgb = image_msg_to_rgb(image(encoding, 3, rows, pad=1))
    np.testing.assert_array_equal(rgb, grey([[0, 128, 255], [1, 2, 3]]))


# 16-bit to 8-bit is round(v * 255 / 65535): 385 -> 1.498 -> 1, 386 -> 1.502 -> 2 (not v >> 8).
MONO16 = [[0, 257, 65535], [128, 385, 386]]
MONO16_AS_8 = [[0, 1, 255], [0, 1, 2]]


@pytest.mark.parametrize("pad", [0, 2, 3])  # 3: rows start at odd addresses
@pytest.mark.parametrize("order", ["little", "big"])
@pytest.mark.parametrize("encoding", ["mono16", "16UC1"])
def test_16bit_mono(encoding: str, order: str, pad: int) -> None:
    msg = image(encoding, 3, [u16(row, order) for row in MONO16], pad, order == "big")
    raw = image_msg_to_array(msg)
    assert raw.dtype == np.uint16 and raw.dtype.isnative
    np.testing.assert_array_equal(raw, np.array(MONO16))
    np.testing.assert_array_equal(image_msg_to_rgb(msg), grey(MONO16_AS_8))


@pytest.mark.parametrize("order", ["little", "big"])
@pytest.mark.parametrize(
    ("encoding", "rows"),
    [("rgb16", RGB_ROWS), ("bgr16", BGR_ROWS), ("rgba16", RGBA_ROWS), ("bgra16", BGRA_ROWS)],
)
def test_16bit_colour(encoding: str, rows: list[bytes], order: str) -> None:
    # Each 8-bit value v stored as v * 257 comes back exactly as v.
    rows16 = [u16([v * 257 for v in row], order) for row in rows]
    rgb = image_msg_to_rgb(image(encoding, 3, rows16, pad=4, bigendian=order == "big"))
    np.testing.assert_array_equal(rgb, RGB)


@pytest.mark.parametrize("order", ["little", "big"])
def test_32fc1_scaled_by_largest_finite_value(order: str) -> None:
    nan, inf = float("nan"), float("inf")
    values = [[0.25, 1.5, nan], [-1.0, inf, 2.0]]
    msg = image("32FC1", 3, [f32(row, order) for row in values], pad=4, bigendian=order == "big")
    raw = image_msg_to_array(msg)
    assert raw.dtype == np.float32 and raw.dtype.isnative
    np.testing.assert_array_equal(raw, np.array(values, np.float32))
    # peak 2.0: 0.25 -> 31.875 -> 32, 1.5 -> 191.25 -> 191; NaN, inf and negatives -> 0.
    np.testing.assert_array_equal(image_msg_to_rgb(msg), grey([[32, 191, 0], [0, 0, 255]]))


def test_32fc1_without_positive_values_is_black() -> None:
    msg = image("32FC1", 2, [f32([0.0, float("nan")], "little")])
    np.testing.assert_array_equal(image_msg_to_rgb(msg), grey([[0, 0]]))


# Two pixel pairs in one row: black and white (neutral chroma), then a red-shifted pair with
# Y 126, U 128, V 255. BT.601 video range: R = 1.164 (Y - 16) + 1.596 (V - 128) = 330 -> 255,
# G = 1.164 (Y - 16) - 0.813 (V - 128) = 24.8 -> 25, B = 1.164 (Y - 16) + 2.018 (U - 128) = 128.
YUV_RGB = np.array([[[0, 0, 0], [255, 255, 255], [255, 25, 128], [255, 25, 128]]] * 2, np.uint8)
UYVY_ROW = bytes([128, 16, 128, 235, 128, 126, 255, 126])
YUYV_ROW = bytes([16, 128, 235, 128, 126, 128, 126, 255])


@pytest.mark.parametrize("pad", [0, 6])
@pytest.mark.parametrize(
    ("encoding", "row"),
    [("yuv422", UYVY_ROW), ("uyvy", UYVY_ROW), ("yuv422_yuy2", YUYV_ROW), ("yuyv", YUYV_ROW)],
)
def test_yuv422(encoding: str, row: bytes, pad: int) -> None:
    rgb = image_msg_to_rgb(image(encoding, 4, [row, row], pad))
    np.testing.assert_allclose(rgb, YUV_RGB, atol=1)


def test_every_supported_encoding_converts() -> None:
    for encoding in SUPPORTED_ENCODINGS:
        msg = Image(height=2, width=4, encoding=encoding, step=64, data=bytes(64 * 2 * 3))
        assert image_msg_to_rgb(msg).shape == (2, 4, 3), encoding


@pytest.mark.parametrize("encoding", ["64FC1", "", "RGB8", "8SC3", "32SC1"])
def test_unsupported_encoding_lists_the_supported_ones(encoding: str) -> None:
    with pytest.raises(ImageConversionError, match="unsupported encoding") as err:
        image_msg_to_rgb(Image(height=2, width=2, encoding=encoding, step=6, data=bytes(12)))
    assert all(name in str(err.value) for name in SUPPORTED_ENCODINGS)


@pytest.mark.parametrize(("width", "height"), [(0, 2), (3, 0), (0, 0)])
def test_zero_size_image(width: int, height: int) -> None:
    msg = Image(height=height, width=width, encoding="rgb8", step=3 * width, data=b"")
    with pytest.raises(ImageConversionError, match="zero-size image"):
        image_msg_to_rgb(msg)


def test_data_shorter_than_step_times_height() -> None:
    msg = image("rgb8", 3, RGB_ROWS, pad=2)
    msg.data = msg.data[:-1]
    with pytest.raises(ImageConversionError, match=r"21 bytes, fewer than .* 11 x 2 = 22"):
        image_msg_to_rgb(msg)


def test_step_smaller_than_a_row() -> None:
    msg = Image(height=2, width=3, encoding="mono16", step=5, data=bytes(12))
    with pytest.raises(ImageConversionError, match=r"step 5 is smaller .* = 6"):
        image_msg_to_rgb(msg)


def test_yuv422_with_odd_width() -> None:
    msg = Image(height=1, width=3, encoding="yuv422", step=6, data=bytes(6))
    with pytest.raises(ImageConversionError, match="width must be even, got 3"):
        image_msg_to_rgb(msg)


def test_conversion_error_is_a_value_error() -> None:
    assert issubclass(ImageConversionError, ValueError)


# A smooth picture, so that JPEG stays close to it.
_y, _x = np.mgrid[0:24, 0:32]
PICTURE = np.stack([_x * 8, _y * 10, 255 - _x * 4], axis=2).astype(np.uint8)


def compressed(data: bytes, fmt: str = "") -> CompressedImage:
    return CompressedImage(format=fmt, data=data)


def encode(extension: str, rgb: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(extension, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buffer.tobytes()


def test_png_round_trip_is_exact() -> None:
    # The format text is not trusted: decoding goes by the magic bytes.
    msg = compressed(encode(".png", PICTURE), fmt="rgb8; jpeg compressed bgr8")
    np.testing.assert_array_equal(compressed_msg_to_rgb(msg), PICTURE)


def test_jpeg_round_trip_is_close() -> None:
    rgb = compressed_msg_to_rgb(compressed(encode(".jpg", PICTURE), fmt="jpeg"))
    assert rgb.shape == PICTURE.shape and rgb.dtype == np.uint8
    assert np.abs(rgb.astype(int) - PICTURE).mean() < 3


def test_grey_png_becomes_rgb() -> None:
    ok, buffer = cv2.imencode(".png", PICTURE[:, :, 0])
    assert ok
    rgb = compressed_msg_to_rgb(compressed(buffer.tobytes()))
    np.testing.assert_array_equal(rgb, np.repeat(PICTURE[:, :, :1], 3, axis=2))


def test_unknown_compressed_format() -> None:
    with pytest.raises(ImageConversionError, match=r"47 49 46 38 39 61.*neither JPEG") as err:
        compressed_msg_to_rgb(compressed(b"GIF89a\x01\x00\x01\x00", fmt="gif"))
    assert "'gif'" in str(err.value)


def test_empty_compressed_image() -> None:
    with pytest.raises(ImageConversionError, match="has no data"):
        compressed_msg_to_rgb(compressed(b"", fmt="jpeg"))


@pytest.mark.parametrize(
    "data", [b"\xff\xd8\xff\xe0" + bytes(40), b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 4]
)
def test_undecodable_compressed_data(data: bytes) -> None:
    with pytest.raises(ImageConversionError, match=r"cannot decode the (JPEG|PNG) data"):
        compressed_msg_to_rgb(compressed(data))


# A 6 x 4 scene seen by a Bayer sensor: each site keeps one channel of it.
SCENE = np.random.default_rng(7).integers(0, 256, (4, 6, 3)).astype(np.uint8)
BAYER = {  # pattern -> channel at (row % 2, col % 2)
    "rggb": ((0, 1), (1, 2)),
    "bggr": ((2, 1), (1, 0)),
    "gbrg": ((1, 2), (0, 1)),
    "grbg": ((1, 0), (2, 1)),
}
OPENCV_BAYER = {
    "rggb": cv2.COLOR_BayerRGGB2RGB,
    "bggr": cv2.COLOR_BayerBGGR2RGB,
    "gbrg": cv2.COLOR_BayerGBRG2RGB,
    "grbg": cv2.COLOR_BayerGRBG2RGB,
}


def mosaic(scene: np.ndarray, pattern: str) -> np.ndarray:
    height, width = scene.shape[:2]
    channel = np.array(BAYER[pattern])[np.arange(height)[:, None] % 2, np.arange(width) % 2]
    return np.take_along_axis(scene, channel[..., None], axis=2)[..., 0]


@pytest.mark.parametrize("pattern", BAYER)
@pytest.mark.parametrize(("bits", "order"), [(8, "little"), (16, "little"), (16, "big")])
def test_bayer_matches_opencv_demosaicing(pattern: str, bits: int, order: str) -> None:
    raw = mosaic(SCENE, pattern)
    if bits == 16:
        raw16 = raw.astype(np.uint16) * 257 + 3
        rows = [u16(row.tolist(), order) for row in raw16]
        expected = cv2.convertScaleAbs(
            cv2.cvtColor(raw16, OPENCV_BAYER[pattern]), alpha=255.0 / 65535.0
        )
    else:
        rows = [row.tobytes() for row in raw]
        expected = cv2.cvtColor(raw, OPENCV_BAYER[pattern])
    msg = image(f"bayer_{pattern}{bits}", 6, rows, pad=2, bigendian=order == "big")
    np.testing.assert_array_equal(image_msg_to_rgb(msg), expected)


@pytest.mark.parametrize("pattern", BAYER)
def test_bayer_pattern_names_put_the_colours_where_they_are(pattern: str) -> None:
    """A flat orange scene comes out orange: the pattern's name is read the ROS way."""
    scene = np.broadcast_to(np.array([200, 120, 40], np.uint8), (8, 8, 3))
    rows = [row.tobytes() for row in mosaic(scene, pattern)]
    rgb = image_msg_to_rgb(image(f"bayer_{pattern}8", 8, rows))
    np.testing.assert_allclose(rgb[2:6, 2:6], scene[2:6, 2:6], atol=2)


def yuv_planes(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = rng.integers(16, 236, (height, width)).astype(np.uint8)
    u, v = rng.integers(16, 241, (2, height // 2, width // 2)).astype(np.uint8)
    return y, u, v


@pytest.mark.parametrize("pad", [0, 4])
def test_nv21_matches_opencv(pad: int) -> None:
    y, u, v = yuv_planes(6, 4)
    vu = np.dstack([v, u]).reshape(2, 6)
    planes = np.vstack([y, vu])
    rows = [row.tobytes() for row in planes]
    msg = image("nv21", 6, rows, pad=pad)
    msg.height = 4
    expected = cv2.cvtColor(planes, cv2.COLOR_YUV2RGB_NV21)
    np.testing.assert_array_equal(image_msg_to_rgb(msg), expected)


def test_nv24_converts_as_nv21_where_chroma_is_the_same() -> None:
    """nv24 of chroma repeated over 2x2 cells gives what OpenCV's nv21 gives for it."""
    y, u, v = yuv_planes(6, 4)
    full_u, full_v = (np.kron(c, np.ones((2, 2), np.uint8)) for c in (u, v))
    uv = np.dstack([full_u, full_v]).reshape(4, 12)
    msg = Image(height=4, width=6, encoding="nv24", step=8)
    msg.data = b"".join(np.pad(r, (0, 2)).tobytes() for r in y) + b"".join(
        np.pad(r, (0, 4)).tobytes() for r in uv
    )
    expected = cv2.cvtColor(
        np.vstack([y, np.dstack([v, u]).reshape(2, 6)]), cv2.COLOR_YUV2RGB_NV21
    )
    np.testing.assert_array_equal(image_msg_to_rgb(msg), expected)


def test_nv21_needs_its_chroma_rows_and_an_even_size() -> None:
    short = Image(height=4, width=6, encoding="nv21", step=6, data=bytes(24))
    with pytest.raises(ImageConversionError, match=r"fewer than step x rows = 6 x 6 = 36"):
        image_msg_to_rgb(short)
    odd = Image(height=3, width=6, encoding="nv21", step=6, data=bytes(36))
    with pytest.raises(ImageConversionError, match="must be even, got 6x3"):
        image_msg_to_rgb(odd)
