"""The view of a frame the network sees: crop or letterbox to 16:9, intrinsics, 2D mapping."""

import cv2
import numpy as np
import pytest
from camera_scenes import CANVASES, in_canvas, original

from htt_ros.geometry import POSE_FRAME, decode_25d
from htt_ros.streaming.preprocess import PAD_RGB, fit_view, shrink_for, to_network_input

SIZE = (112, 64)


@pytest.mark.parametrize(
    ("image", "fit", "view"),
    [
        ((480, 270), "crop", (0, 0, 480, 270)),
        ((640, 480), "crop", (0, 60, 640, 360)),  # 4:3: top and bottom bands cut
        ((2560, 1080), "crop", (320, 0, 1920, 1080)),  # 21:9: sides cut
        ((500, 500), "crop", (0, 109, 500, 281)),
        ((640, 480), "letterbox", (-107, 0, 853, 480)),  # 4:3: bands added at the sides
        ((2560, 1080), "letterbox", (0, -180, 2560, 1440)),
    ],
)
def test_view_keeps_the_decoding_frame_aspect_ratio(image, fit, view) -> None:
    got = fit_view(image, POSE_FRAME, fit)
    assert (got.x0, got.y0, got.width, got.height) == view
    assert abs(got.width / got.height - 16 / 9) < 0.005


@pytest.mark.parametrize("canvas", CANVASES)
def test_a_frame_in_a_canvas_gives_the_same_input_intrinsics_and_joints(canvas) -> None:
    frame = original(1)
    big = in_canvas(frame, canvas)
    small_input, small_view = to_network_input(frame.frames[0], SIZE, POSE_FRAME)
    big_input, big_view = to_network_input(big.frames[0], SIZE, POSE_FRAME)
    np.testing.assert_array_equal(big_input, small_input)
    np.testing.assert_allclose(big_view.intrinsics(big.k), small_view.intrinsics(frame.k))
    raw = np.random.default_rng(0).normal(0, 0.5, (21, 3))
    joints2d, _, joints3d = decode_25d(raw, big_view.intrinsics(big.k))
    ref2d, _, ref3d = decode_25d(raw, small_view.intrinsics(frame.k))
    np.testing.assert_allclose(joints3d, ref3d, atol=1e-9)
    np.testing.assert_allclose(
        big_view.to_image(joints2d), small_view.to_image(ref2d) + big.offset, atol=1e-9
    )


def test_letterbox_pads_with_the_mean_colour_and_keeps_the_whole_image() -> None:
    rgb = np.zeros((480, 640, 3), np.uint8)
    image, view = to_network_input(rgb, (853, 480), POSE_FRAME, "letterbox")
    assert tuple(image[0, 240, 0]) == PAD_RGB and tuple(image[0, 240, 852]) == PAD_RGB
    assert (image[0, :, 107:747] == 0).all()
    k = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    np.testing.assert_allclose(view.intrinsics(k)[0], [500 * 480 / 853, 0, 427 * 480 / 853])
    np.testing.assert_allclose(view.to_image([[240.0, 135.0]]), [[319.5, 240.0]])


def test_unknown_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="crop, letterbox"):
        fit_view((640, 480), POSE_FRAME, "stretch")


def test_bilinear_shrink_makes_h2o_s_480x270_images_as_the_authors_did() -> None:
    """A 1280x720 H2O frame becomes exactly what ``cv2.resize`` (bilinear, the authors'
    ``rgb480_270``) makes of it; a smaller input is area-averaged from that; ``area`` averages
    straight from the frame."""
    rgb = np.random.default_rng(1).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    authors = cv2.resize(rgb, POSE_FRAME)
    assert shrink_for("h2o") == "bilinear" and shrink_for("fpha") == "area"
    image, _ = to_network_input(rgb, POSE_FRAME, POSE_FRAME, shrink="bilinear")
    np.testing.assert_array_equal(image[0], authors)
    small, _ = to_network_input(rgb, SIZE, POSE_FRAME, shrink="bilinear")
    np.testing.assert_array_equal(
        small[0], cv2.resize(authors, SIZE, interpolation=cv2.INTER_AREA)
    )
    area, _ = to_network_input(rgb, POSE_FRAME, POSE_FRAME)
    np.testing.assert_array_equal(
        area[0], cv2.resize(rgb, POSE_FRAME, interpolation=cv2.INTER_AREA)
    )
    assert np.abs(area.astype(int) - image).max() > 50  # the two are not the same pixels
    frame = rgb[:270, :480]  # a frame of the decoding size (training's) is not resized by either
    for shrink in ("area", "bilinear"):
        np.testing.assert_array_equal(
            to_network_input(frame, POSE_FRAME, POSE_FRAME, shrink=shrink)[0][0], frame
        )
    with pytest.raises(ValueError, match="area, bilinear"):
        to_network_input(rgb, SIZE, POSE_FRAME, shrink="nearest")
