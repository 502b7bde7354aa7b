"""A small numpy ray caster for the synthetic data set: shaded spheres, capsules and boxes.

Every primitive is intersected exactly with the camera rays of the pixels inside its projected
bounding box and drawn through a depth buffer, so nearer primitives occlude farther ones (an
object in the hand hides the fingers behind it). Shading is Lambertian with an ambient term and
a Blinn-like highlight. Coordinates are the camera frame in metres (x right, y down, z forward);
pixel ``(u, v)`` looks along ``((u - cx) / fx, (v - cy) / fy, 1)``, so the ray parameter of a hit
is its depth Z.
"""

from __future__ import annotations

import numpy as np

_MIN_DEPTH = 0.02  # metres; primitives reaching nearer than this to the camera are skipped


class Canvas:
    """A depth-buffered RGB image of size ``(W, H)`` seen through ``intrinsics``.

    Args:
        intrinsics: ``[3, 3]`` camera matrix of the image.
        size: ``(W, H)`` in pixels.
        light: direction towards the light, camera frame (normalised here).
    """

    def __init__(
        self, intrinsics: np.ndarray, size: tuple[int, int], light: np.ndarray | None = None
    ) -> None:
        width, height = size
        self.k = np.asarray(intrinsics, dtype=np.float64)
        u, v = np.meshgrid(np.arange(width), np.arange(height))
        self.rays = np.stack(
            [
                (u - self.k[0, 2]) / self.k[0, 0],
                (v - self.k[1, 2]) / self.k[1, 1],
                np.ones(u.shape),
            ],
            axis=-1,
        ).astype(np.float32)  # [H, W, 3]
        self.ray_norm2 = (self.rays**2).sum(-1)  # [H, W]
        self.color = np.zeros((height, width, 3), dtype=np.float32)
        self.depth = np.full((height, width), np.inf, dtype=np.float32)
        light = np.array([0.3, -0.7, -0.6]) if light is None else np.asarray(light, float)
        self.light = (light / np.linalg.norm(light)).astype(np.float32)
        self.half = self.light - np.array([0.0, 0.0, 1.0], np.float32)  # towards light + camera
        self.half /= np.linalg.norm(self.half)

    def clear(self, background: np.ndarray) -> None:
        """Start a frame from ``background`` (``[H, W, 3]``, values 0..1)."""
        self.color[:] = background
        self.depth.fill(np.inf)

    def image(self) -> np.ndarray:
        """The frame as ``uint8 [H, W, 3]``."""
        return (np.clip(self.color, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)

    def sphere(self, centre: np.ndarray, radius: float, colour: np.ndarray) -> None:
        window = self._window(centre[None], radius)
        if window is None:
            return
        d, dd = self.rays[window], self.ray_norm2[window]
        b = d @ centre.astype(np.float32)  # ray.t^2 dd - 2 t b + |c|^2 - r^2 = 0
        disc = b * b - dd * (centre @ centre - radius * radius)
        hit = disc >= 0
        t = (b - np.sqrt(np.where(hit, disc, 0.0))) / dd
        mask = self._depth_test(window, hit, t)
        if mask is not None:
            normal = (t[mask, None] * d[mask] - centre) / radius
            self._paint(window, mask, t[mask], normal, colour)

    def capsule(self, a: np.ndarray, b: np.ndarray, radius: float, colour: np.ndarray) -> None:
        """Segment ``a``-``b`` (metres) swept by a sphere of ``radius``."""
        ba = (b - a).astype(np.float32)
        baba = float(ba @ ba)
        if baba < 1e-12:
            self.sphere(a, radius, colour)
            return
        window = self._window(np.stack([a, b]), radius)
        if window is None:
            return
        d, dd = self.rays[window], self.ray_norm2[window]
        oa = -a.astype(np.float32)  # ray origin (camera centre) minus a
        bard, rdoa = d @ ba, d @ oa
        baoa = float(ba @ oa)
        qa = baba * dd - bard * bard  # infinite cylinder: qa t^2 + 2 qb t + qc = 0
        qb = baba * rdoa - baoa * bard
        qc = baba * float(oa @ oa) - baoa * baoa - radius * radius * baba
        disc = qb * qb - qa * qc
        hit = disc >= 0  # missing the infinite cylinder misses the caps too
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (-qb - np.sqrt(np.where(hit, disc, 0.0))) / qa
        y = baoa + t * bard  # position of the hit along the axis, scaled by baba
        body = hit & (y > 0) & (y < baba)
        end = np.where((y <= 0)[..., None], a, b).astype(np.float32)  # the cap's sphere
        cb = (d * end).sum(-1)
        cdisc = cb * cb - dd * ((end * end).sum(-1) - radius * radius)
        t_cap = (cb - np.sqrt(np.maximum(cdisc, 0.0))) / dd
        t = np.where(body, t, t_cap)
        mask = self._depth_test(window, hit & (body | (cdisc >= 0)), t)
        if mask is not None:
            p = t[mask, None] * d[mask]
            s = np.clip((p - a) @ ba / baba, 0.0, 1.0)
            normal = (p - a - s[:, None] * ba) / radius
            self._paint(window, mask, t[mask], normal, colour)

    def box(
        self, centre: np.ndarray, rotation: np.ndarray, half: np.ndarray, colour: np.ndarray
    ) -> None:
        """Box with axes ``rotation`` columns (camera frame) and half extents ``half`` (m)."""
        window = self._window(centre[None], float(np.linalg.norm(half)))
        if window is None:
            return
        rot = rotation.astype(np.float32)
        d = self.rays[window] @ rot  # ray directions in box coordinates
        o = -centre.astype(np.float32) @ rot
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / d
            t1, t2 = (-half - o) * inv, (half - o) * inv
        t_min, t_max = np.minimum(t1, t2), np.maximum(t1, t2)
        t_near, t_far = np.nanmax(t_min, axis=-1), np.nanmin(t_max, axis=-1)
        mask = self._depth_test(window, (t_near <= t_far) & (t_near > 0), t_near)
        if mask is not None:
            axis = np.argmax(np.nan_to_num(t_min[mask], nan=-np.inf), axis=-1)
            local = np.zeros((len(axis), 3), np.float32)
            rows = np.arange(len(axis))
            local[rows, axis] = -np.sign(d[mask][rows, axis])
            self._paint(window, mask, t_near[mask], local @ rot.T, colour)

    def _window(self, points: np.ndarray, radius: float) -> tuple[slice, slice] | None:
        """Pixel rows/columns covering the projection of the spheres of ``radius`` around
        ``points`` (projected corners of their bounding box), or None if off-screen."""
        lo, hi = points.min(0) - radius, points.max(0) + radius
        if lo[2] < _MIN_DEPTH:
            return None
        xs, ys, zs = np.array([lo[0], hi[0]]), np.array([lo[1], hi[1]]), np.array([lo[2], hi[2]])
        u = self.k[0, 0] * xs[:, None] / zs[None] + self.k[0, 2]
        v = self.k[1, 1] * ys[:, None] / zs[None] + self.k[1, 2]
        height, width = self.depth.shape
        u0, u1 = max(int(np.floor(u.min())), 0), min(int(np.ceil(u.max())) + 1, width)
        v0, v1 = max(int(np.floor(v.min())), 0), min(int(np.ceil(v.max())) + 1, height)
        if u0 >= u1 or v0 >= v1:
            return None
        return slice(v0, v1), slice(u0, u1)

    def _depth_test(
        self, window: tuple[slice, slice], hit: np.ndarray, t: np.ndarray
    ) -> np.ndarray | None:
        mask = hit & (t > 0) & (t < self.depth[window])
        return mask if mask.any() else None

    def _paint(
        self,
        window: tuple[slice, slice],
        mask: np.ndarray,
        depth: np.ndarray,
        normal: np.ndarray,
        colour: np.ndarray,
    ) -> None:
        diffuse = np.clip(normal @ self.light, 0.0, 1.0)
        highlight = np.clip(normal @ self.half, 0.0, 1.0) ** 16
        shade = (0.35 + 0.65 * diffuse)[:, None] * colour + 0.25 * highlight[:, None]
        self.depth[window][mask] = depth
        self.color[window][mask] = shade
