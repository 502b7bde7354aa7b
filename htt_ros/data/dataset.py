"""The representation every data set reader returns, its error type and the decoded-frame cache.

A :class:`Sequence` is one labelled video (an FPHA video, an H2O action segment): its frames'
image paths, 3D joints in metres in the camera frame, 2D joints in pixels of the 480x270 image,
the 480x270 intrinsics and the action and object indices. A :class:`SequenceDataset` is one split
of a data set with its :class:`~htt_ros.labels.LabelSet`.

Decoding 480x270 JPEG/PNG frames costs more than a training step on small models, so
:meth:`SequenceDataset.build_cache` writes each sequence once as a ``uint8 [F, 270, 480, 3]``
``.npy`` file that later epochs memory-map (``<root>/htt_cache`` unless told otherwise).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from htt_ros.errors import UserError
from htt_ros.geometry import POSE_FRAME
from htt_ros.labels import LabelSet
from htt_ros.progress import Progress

IMAGE_SIZE: tuple[int, int] = POSE_FRAME  # (W, H) of every frame the readers return
FRAME_RATE = 30.0  # Hz, both data sets
CACHE_DIRNAME = "htt_cache"


class DatasetError(UserError, ValueError):
    """A data set folder is incomplete or malformed; the message names the file (and line)."""


@dataclass(frozen=True, eq=False)
class Sequence:
    """One labelled video.

    Attributes:
        key: unique name across splits (FPHA ``Subject_1/open_milk/2``, H2O
            ``subject1/h1/0/000120-000230``); also the video key of action voting.
        subject: subject folder name.
        action: action index into the data set's ``LabelSet.actions``.
        object: object index into ``LabelSet.objects``.
        image_paths: ``F`` paths of the 480x270 colour frames.
        joints3d: ``[F, J, 3]`` float32, metres, camera frame (J = 21 right hand, or 42 = left
            then right hand).
        joints2d: ``[F, J, 2]`` float32, pixels of the 480x270 image.
        intrinsics: ``[3, 3]`` float64 camera matrix of the 480x270 image.
        hand_valid: ``[F, H]`` bool annotation flags per hand (H2O's flags; FPHA all true).
        frame_ids: ``[F]`` int64 frame numbers inside the recording.
        fps: frame rate in Hz.
    """

    key: str
    subject: str
    action: int
    object: int
    image_paths: tuple[Path, ...]
    joints3d: np.ndarray
    joints2d: np.ndarray
    intrinsics: np.ndarray
    hand_valid: np.ndarray
    frame_ids: np.ndarray
    fps: float = FRAME_RATE

    @property
    def num_frames(self) -> int:
        return len(self.image_paths)

    @property
    def cache_name(self) -> str:
        """File name of this sequence's decoded frames in a cache folder."""
        return re.sub(r"[^A-Za-z0-9_.-]", "_", self.key) + ".npy"


@dataclass
class SequenceDataset:
    """One split of a data set: its sequences and label names.

    Attributes:
        name: layout name, ``fpha`` or ``h2o``.
        root: the data set folder.
        split: ``train``, ``val`` or ``test``.
        labels: action and object names in index order; ``labels.num_joints`` is 21 or 42.
        sequences: the split's sequences in file order.
        cache_dir: folder of decoded-frame ``.npy`` files, or None to decode images each time.
    """

    name: str
    root: Path
    split: str
    labels: LabelSet
    sequences: list[Sequence]
    cache_dir: Path | None = field(default=None)

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int) -> Sequence:
        return self.sequences[index]

    def __iter__(self) -> Iterator[Sequence]:
        return iter(self.sequences)

    @property
    def num_frames(self) -> int:
        return sum(s.num_frames for s in self.sequences)

    def frames(self, index: int, frame_indices: SequenceABC[int] | None = None) -> np.ndarray:
        """Frames of sequence ``index`` as ``uint8 [N, 270, 480, 3]`` RGB.

        ``frame_indices`` (positions inside the sequence, default all) may repeat. Read from the
        cache when this sequence has a valid one, else decoded from the image files.
        """
        seq = self.sequences[index]
        picks = range(seq.num_frames) if frame_indices is None else frame_indices
        cached = self._open_cache(seq)
        if cached is not None:
            return np.asarray(cached[np.asarray(picks, dtype=np.int64)])
        out = np.empty((len(picks), IMAGE_SIZE[1], IMAGE_SIZE[0], 3), dtype=np.uint8)
        for i, k in enumerate(picks):
            out[i] = read_image(seq.image_paths[k])
        return out

    def build_cache(self, cache_dir: str | Path | None = None, progress: bool = True) -> Path:
        """Decode every frame once into ``<cache_dir>/<sequence>.npy`` and use that cache.

        Sequences with a complete cache file are skipped, so an interrupted run resumes. Each
        file is written under a temporary name and renamed when complete. Returns the folder.
        """
        folder = Path(cache_dir) if cache_dir is not None else self.root / CACHE_DIRNAME
        folder.mkdir(parents=True, exist_ok=True)
        self.cache_dir = folder
        todo = [s for s in self.sequences if self._open_cache(s) is None]
        bar = Progress(
            f"caching {self.name} {self.split}",
            sum(s.num_frames for s in todo),
            enabled=progress,
        )
        with bar:
            for seq in todo:
                target = folder / seq.cache_name
                partial = target.with_suffix(".partial.npy")
                shape = (seq.num_frames, IMAGE_SIZE[1], IMAGE_SIZE[0], 3)
                arr = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=shape)
                for i, path in enumerate(seq.image_paths):
                    arr[i] = read_image(path)
                    bar.update(1)
                arr.flush()
                del arr
                os.replace(partial, target)
        return folder

    def _open_cache(self, seq: Sequence) -> np.ndarray | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / seq.cache_name
        if not path.is_file():
            return None
        try:
            arr = np.load(path, mmap_mode="r")
        except (OSError, ValueError):
            return None  # a torn or foreign file: decode the images instead
        expected = (seq.num_frames, IMAGE_SIZE[1], IMAGE_SIZE[0], 3)
        return arr if arr.shape == expected and arr.dtype == np.uint8 else None


def read_image(path: Path) -> np.ndarray:
    """Read one 480x270 colour frame as ``uint8 [270, 480, 3]`` RGB; DatasetError if absent,
    unreadable or of another size."""
    try:
        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: image file is missing") from None
    except OSError as err:
        raise DatasetError(f"{path}: cannot decode the image ({err})") from None
    if rgb.shape[1::-1] != IMAGE_SIZE:
        raise DatasetError(
            f"{path}: image is {rgb.shape[1]}x{rgb.shape[0]}, expected {IMAGE_SIZE[0]}x"
            f"{IMAGE_SIZE[1]} (resize the data set's frames to 480x270 first)"
        )
    return rgb


def project(joints3d: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """Pinhole projection ``[..., 3]`` camera-frame metres -> ``[..., 2]`` pixels with
    ``u = fx X / Z + cx``, ``v = fy Y / Z + cy``; points with ``Z <= 0`` (H2O writes zeros for
    hands it did not annotate) give ``(0, 0)``."""
    z = joints3d[..., 2:3]
    ok = z > 0
    xy = joints3d[..., :2] / np.where(ok, z, 1.0)
    return np.where(ok, xy * np.diag(intrinsics)[:2] + intrinsics[:2, 2], 0.0)


def read_lines(path: Path, what: str) -> list[str]:
    """Lines of a text file; DatasetError naming the file and ``what`` it should hold if absent."""
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        raise DatasetError(
            f"{path}: file is missing (expected {what}); give the data set's folder as its "
            f"authors distribute it"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: cannot read {what}: {err}") from None


def parse_floats(tokens: SequenceABC[str], where: str) -> np.ndarray:
    """``float64`` array of ``tokens``; DatasetError naming ``where`` and the first bad token."""
    try:
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if not _is_float(t))
        raise DatasetError(f"{where}: {bad!r} is not a number") from None


def parse_int(token: str, where: str, what: str) -> int:
    """``int(token)``; DatasetError naming ``where`` and ``what`` the column holds."""
    try:
        return int(token)
    except ValueError:
        raise DatasetError(f"{where}: {what} {token!r} is not an integer") from None


def _is_float(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def check_split(split: str, splits: tuple[str, ...], dataset: str) -> None:
    """ValueError listing ``splits`` when ``split`` is not one of them."""
    if split not in splits:
        raise ValueError(f"unknown {dataset} split {split!r}; expected one of {list(splits)}")


def default_cache_dir(root: Path, cache_dir: str | Path | None) -> Path | None:
    """``cache_dir`` if given, else ``<root>/htt_cache`` when that folder exists, else None."""
    if cache_dir is not None:
        return Path(cache_dir)
    found = root / CACHE_DIRNAME
    return found if found.is_dir() else None
