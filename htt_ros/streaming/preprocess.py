"""Bring a camera frame to the network's input: the view of the image the network sees.

HTT decodes X and Y with ``fx`` alone (:mod:`htt_ros.geometry`), so the network must see pixels
with the aspect ratio of its decoding frame (16:9, 480x270), as in training; squashing a 4:3
frame would distort the hands in 3D. :func:`fit_view` picks the rectangle of the image that
maps onto the decoding frame with one scale for x and y:

- ``crop`` (default): the largest centred rectangle of the frame's aspect ratio inside the
  image; the network sees the pixels at the training scale, the rest of the field of view is
  cut off (a 4:3 head-mounted camera loses its top and bottom bands).
- ``letterbox``: the smallest centred rectangle of that aspect ratio around the image, the
  margin filled with :data:`PAD_RGB`; the whole field of view, at a smaller scale.

The same :class:`View` shifts and scales the intrinsics into the decoding frame and maps the
decoded 2D joints back to the image's pixels.

How the view is shrunk follows how the model's training images were made from their camera's
frames (the model card's ``shrink``), so that the network sees the pixels it was trained on:

- ``area`` (default): pixel-area averaging straight to the network input, no aliasing. FPHA's
  480x270 images were shrunk with PIL's antialiased bilinear filter, whose nearest OpenCV
  match this is; the synthetic renders are drawn at 480x270 and shrunk this way in training.
- ``bilinear``: OpenCV's bilinear resize to the 480x270 decoding frame first, as the authors
  made H2O's ``rgb480_270`` images from its 1280x720 frames (``cv2.resize`` with its default
  interpolation, fylwen/HTT), then area averaging to a smaller network input. It is also about
  five times faster than ``area`` on a 1280x720 frame.

Training frames are already 480x270, where the two agree.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from htt_ros.model_card import SHRINKS

FITS = ("crop", "letterbox")
DATASET_SHRINK = {"h2o": "bilinear"}  # the others' images were shrunk without aliasing: area
PAD_RGB = (124, 116, 104)  # the ImageNet mean colour: letterbox margins normalise to zero


@dataclass(frozen=True)
class View:
    """The rectangle of the image that becomes the decoding frame, in image pixels: top-left
    ``(x0, y0)`` (negative in letterbox mode) and size ``width`` x ``height``."""

    x0: int
    y0: int
    width: int
    height: int
    frame: tuple[int, int]  # (W, H) of the decoding frame

    @property
    def scale(self) -> np.ndarray:
        """Decoding-frame pixels per image pixel, ``(x, y)``."""
        return np.array([self.frame[0] / self.width, self.frame[1] / self.height])

    def intrinsics(self, k: np.ndarray) -> np.ndarray:
        """``(3, 3)`` intrinsics of the image ``k`` moved into the decoding frame."""
        moved = np.array(k, dtype=np.float64, copy=True)
        moved[0, 2] -= self.x0
        moved[1, 2] -= self.y0
        moved[:2] *= self.scale[:, None]
        return moved

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """``[..., 2]`` decoding-frame pixels to image pixels."""
        return np.asarray(points) / self.scale + [self.x0, self.y0]

    def network_input(
        self, rgb: np.ndarray, size: tuple[int, int], shrink: str = "area"
    ) -> np.ndarray:
        """``(1, H', W', 3)`` uint8 network input of ``size`` ``(W', H')`` from this view of
        ``rgb``: shrunk as ``shrink`` says (module docstring), bilinear when enlarging."""
        height, width = rgb.shape[:2]
        top, left = max(-self.y0, 0), max(-self.x0, 0)
        bottom = max(self.y0 + self.height - height, 0)
        right = max(self.x0 + self.width - width, 0)
        x0, y0 = max(self.x0, 0), max(self.y0, 0)
        view = rgb[y0 : y0 + self.height, x0 : x0 + self.width]
        if top or left or bottom or right:
            view = cv2.copyMakeBorder(
                view, top, bottom, left, right, cv2.BORDER_CONSTANT, value=PAD_RGB
            )
        if shrink == "bilinear" and view.shape[1] > self.frame[0]:
            view = cv2.resize(view, self.frame, interpolation=cv2.INTER_LINEAR)
        if view.shape[1::-1] != size:
            shrink = size[0] < view.shape[1] or size[1] < view.shape[0]
            interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            view = cv2.resize(view, size, interpolation=interpolation)
        return np.ascontiguousarray(view)[None]


def fit_view(image_size: tuple[int, int], frame: tuple[int, int], fit: str = "crop") -> View:
    """The view of an image of ``image_size`` ``(W, H)`` for a decoding ``frame``; ``fit`` is
    one of :data:`FITS` (see the module docstring)."""
    if fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    width, height = image_size
    aspect = frame[0] / frame[1]
    wider = width * frame[1] > height * frame[0]
    if wider == (fit == "crop"):  # the view spans the image's height
        view_w, view_h = max(round(height * aspect), 1), height
    else:
        view_w, view_h = width, max(round(width / aspect), 1)
    return View((width - view_w) // 2, (height - view_h) // 2, view_w, view_h, frame)


def shrink_for(dataset: str) -> str:
    """How frames are shrunk for a model trained on ``dataset`` (one of :data:`SHRINKS`)."""
    return DATASET_SHRINK.get(dataset, "area")


def to_network_input(
    rgb: np.ndarray,
    size: tuple[int, int],
    frame: tuple[int, int],
    fit: str = "crop",
    shrink: str = "area",
) -> tuple[np.ndarray, View]:
    """The network input of an RGB frame and the view it shows: the one preprocessing of
    training, evaluation and the robot (``training.clips`` calls it too), so the three see the
    same pixels.

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB frame of any size.
        size: network input ``(W, H)``.
        frame: ``(W, H)`` of the decoding frame (model card ``decoding.frame``).
        fit: ``crop`` or ``letterbox``.
        shrink: ``area`` or ``bilinear`` (the model card's ``shrink``).

    Returns:
        ``(1, H', W', 3)`` uint8 network input and the :class:`View` (intrinsics, 2D joints).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
    view = fit_view(rgb.shape[1::-1], frame, fit)
    if shrink not in SHRINKS:
        raise ValueError(f"shrink must be one of {', '.join(SHRINKS)}, got {shrink!r}")
    return view.network_input(rgb, size, shrink), view
