"""The intrinsics to use for each frame: the latest camera_info, or a documented default."""

from dataclasses import dataclass

import numpy as np
from sensor_msgs.msg import CameraInfo

from htt_ros.geometry import pinhole_intrinsics, scale_intrinsics


@dataclass
class Intrinsics:
    """The answer for one frame: ``k`` (3, 3) or None to skip the frame; ``problem`` is what
    diagnostics should report (None when all is well), ``warning`` what to log."""

    k: np.ndarray | None
    problem: str | None = None
    warning: str | None = None


class IntrinsicsSource:
    """Keeps the latest CameraInfo and answers for frames of a given size.

    A camera_info for another resolution is scaled to the image (and said so). Without a valid
    camera_info the frame waits, unless ``default_hfov_deg`` > 0 and ``timeout_s`` has passed
    since the first such frame: then an ideal camera of that field of view is assumed.
    """

    def __init__(self, info_topic: str, image_topic: str) -> None:
        self.info_topic, self.image_topic = info_topic, image_topic
        self.info: CameraInfo | None = None
        self._waiting_since: float | None = None

    def update(self, info: CameraInfo) -> None:
        self.info = info

    def for_image(
        self, width: int, height: int, now: float, default_hfov_deg: float, timeout_s: float
    ) -> Intrinsics:
        info = self.info
        if info is not None and info.k[0] > 0:
            k = np.array(info.k, dtype=float).reshape(3, 3)
            if (info.width, info.height) in ((width, height), (0, 0)):
                return Intrinsics(k)
            return Intrinsics(
                scale_intrinsics(k, (info.width, info.height), (width, height)),
                warning=f"{self.info_topic} is for {info.width}x{info.height} images but "
                f"{self.image_topic} has {width}x{height}; scaling the intrinsics",
            )
        self._waiting_since = self._waiting_since if self._waiting_since is not None else now
        if default_hfov_deg > 0 and now - self._waiting_since >= timeout_s:
            return Intrinsics(
                pinhole_intrinsics(width, height, default_hfov_deg),
                problem=f"no camera_info; assuming a {default_hfov_deg} degree field of view",
            )
        problem = (
            f"no valid camera_info on {self.info_topic}: waiting (publish it, remap camera_info, "
            f"or set default_hfov_deg to run without)"
        )
        return Intrinsics(None, problem=problem, warning=problem)
