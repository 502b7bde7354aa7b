"""Rendered hand frames seen through other cameras: larger canvases and a distorting lens.

A run is what one camera sends: frames, the CameraInfo fields that describe them, and where a
pixel of the original 480x270 rendering lands (to compare 2D joints).
"""

from dataclasses import dataclass, field

import cv2
import numpy as np

from htt_ros.data.synthetic import generate_sequence

GREY = 128
# Canvases of other aspect ratios holding the 480x270 frame in their middle: 4:3, 21:9, 1:1.
CANVASES = {"4:3": (480, 360), "21:9": (630, 270), "1:1": (480, 480)}
# A wide-angle lens (barrel distortion) for each model the node undoes.
DISTORTIONS = {
    "plumb_bob": [-0.28, 0.09, 0.001, -0.001, -0.015],
    "rational_polynomial": [-0.25, 0.06, 0.001, -0.001, 0.0, 0.02, 0.0, 0.0],
    "equidistant": [0.08, -0.02, 0.004, -0.001],
}


@dataclass
class Run:
    """One camera: ``frames (F, H, W, 3)`` RGB, intrinsics ``k``, distortion ``d``."""

    name: str
    frames: np.ndarray
    k: np.ndarray
    d: list[float] = field(default_factory=list)
    model: str = "plumb_bob"
    offset: tuple[int, int] = (0, 0)  # where the original frame's (0, 0) lies in this one


def original(frames: int = 10) -> Run:
    seq = generate_sequence("fpha", action=3, num_frames=frames, seed=5)
    return Run("16:9", seq.images, np.asarray(seq.intrinsics, dtype=float))


def in_canvas(run: Run, name: str) -> Run:
    """``run``'s frames in the middle of a grey canvas, the principal point moved to match."""
    width, height = CANVASES[name]
    x, y = (width - 480) // 2, (height - 270) // 2
    frames = np.full((len(run.frames), height, width, 3), GREY, np.uint8)
    frames[:, y : y + 270, x : x + 480] = run.frames
    k = run.k.copy()
    k[:2, 2] += [x, y]
    return Run(name, frames, k, offset=(x, y))


def distort_points(points: np.ndarray, k: np.ndarray, d: list[float], model: str) -> np.ndarray:
    """Pixels of an ideal camera ``k`` to the pixels of the same camera with distortion."""
    normalised = (np.asarray(points, np.float64) - k[:2, 2]) / np.diag(k)[:2]
    rays = np.c_[normalised, np.ones(len(normalised))]
    if model == "equidistant":
        out = cv2.fisheye.projectPoints(rays[:, None], np.zeros(3), np.zeros(3), k, np.array(d))
    else:
        out = cv2.projectPoints(rays, np.zeros(3), np.zeros(3), k, np.array(d))
    return out[0].reshape(-1, 2)


def through_lens(run: Run, model: str) -> Run:
    """``run`` as a camera with the same ``k`` and :data:`DISTORTIONS` ``[model]`` films it: each
    raw pixel samples the ideal image where its ray lands."""
    d = np.array(DISTORTIONS[model])
    height, width = run.frames.shape[1:3]
    grid = np.stack(np.meshgrid(np.arange(width), np.arange(height)), -1).reshape(-1, 1, 2)
    grid = grid.astype(np.float64)
    if model == "equidistant":
        ideal = cv2.fisheye.undistortPoints(grid, run.k, d, P=run.k)
    else:
        ideal = cv2.undistortPoints(grid, run.k, d, P=run.k)
    maps = ideal.reshape(height, width, 2).astype(np.float32)
    frames = np.stack(
        [
            cv2.remap(f, maps, None, cv2.INTER_LINEAR, borderValue=(GREY, GREY, GREY))
            for f in run.frames
        ]
    )
    return Run(f"{run.name} {model}", frames, run.k, list(d), model)
