"""Reader of the First-Person Hand Action benchmark (FPHA, Garcia-Hernando et al. 2018) folder.

Layout read (relative to the data set root), as distributed plus the 480x270 frames HTT uses::

    Subjects_info/Subject_<k>_info.txt          3 header lines, then "action seq_idx length"
    data_split_action_recognition.txt           "Training N", "Subject_k/action/seq label" lines,
                                                "Test N", then the test lines
    action_object_info.txt                      header, "action_idx(1-based) action object pose
                                                scenario"
    Hand_pose_annotation_v1/<Subject>/<action>/<seq>/skeleton.txt
                                                one row per frame: frame_idx + 21x3 world mm
    Video_files_480/<Subject>/<action>/<seq>/color/color_<frame:04d>.jpeg   480x270 RGB

Joints come out in HTT's order (wrist, then thumb..little MCP, PIP, DIP, TIP), in metres in the
colour camera frame (world mm -> fixed extrinsic -> /1000); 2D joints in pixels of the 480x270
image (full-resolution intrinsics x 1/4). Action index = file index - 1; object index = order of
first appearance in ``action_object_info.txt``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from htt_ros.data.dataset import (
    DatasetError,
    Sequence,
    SequenceDataset,
    check_split,
    default_cache_dir,
    parse_floats,
    parse_int,
    project,
    read_lines,
)
from htt_ros.labels import FPHA, Action, LabelSet, fpha_verb

SPLITS: tuple[str, ...] = ("train", "test")
SPLIT_FILE = "data_split_action_recognition.txt"
LABEL_FILE = "action_object_info.txt"
SUBJECTS_DIR = "Subjects_info"
POSE_DIR = "Hand_pose_annotation_v1"
IMAGE_DIR = "Video_files_480"

# Camera-from-world transform of the colour camera; translation in mm.
EXTRINSIC = np.array(
    [
        [0.999988496304, -0.00468848412856, 0.000982563360594, 25.7],
        [0.00469115935266, 0.999985218048, -0.00273845880292, 1.22],
        [-0.000969709653873, 0.00274303671904, 0.99999576807, 3.902],
    ]
)
FULL_RES_INTRINSICS = np.array(
    [[1395.749023, 0.0, 935.732544], [0.0, 1395.749268, 540.681030], [0.0, 0.0, 1.0]]
)
INTRINSICS = np.diag([0.25, 0.25, 1.0]) @ FULL_RES_INTRINSICS  # of the 480x270 frames
# HTT joint i is FPHA native joint REORDER[i] (native: wrist, 5 MCPs, then PIP/DIP/TIP per finger).
REORDER = np.array([0, 1, 6, 7, 8, 2, 9, 10, 11, 3, 12, 13, 14, 4, 15, 16, 17, 5, 18, 19, 20])
NUM_JOINTS = 21


def image_path(root: Path, subject: str, action: str, seq: str, frame: int) -> Path:
    return root / IMAGE_DIR / subject / action / seq / "color" / f"color_{frame:04d}.jpeg"


def skeleton_path(root: Path, subject: str, action: str, seq: str) -> Path:
    return root / POSE_DIR / subject / action / seq / "skeleton.txt"


def world_mm_to_camera(joints_world_mm: np.ndarray) -> np.ndarray:
    """``[..., 3]`` world millimetres -> ``[..., 3]`` camera-frame metres."""
    return (joints_world_mm @ EXTRINSIC[:, :3].T + EXTRINSIC[:, 3]) / 1000.0


def camera_to_world_mm(joints_cam: np.ndarray) -> np.ndarray:
    """Inverse of :func:`world_mm_to_camera`: camera-frame metres -> world millimetres."""
    return (joints_cam * 1000.0 - EXTRINSIC[:, 3]) @ np.linalg.inv(EXTRINSIC[:, :3]).T


def format_skeleton(joints_cam: np.ndarray) -> str:
    """``skeleton.txt`` text for ``[F, 21, 3]`` camera-frame metres in HTT joint order."""
    native = np.empty_like(joints_cam)
    native[:, REORDER] = joints_cam
    world = camera_to_world_mm(native).reshape(len(joints_cam), -1)
    return "".join(
        f"{f} " + " ".join(f"{x:.4f}" for x in row) + "\n" for f, row in enumerate(world)
    )


def read_skeleton(path: Path, num_frames: int) -> np.ndarray:
    """First ``num_frames`` rows of a ``skeleton.txt`` as ``float32 [F, 21, 3]`` camera-frame
    metres in HTT joint order; DatasetError naming the file and line on any malformed row."""
    lines = [ln for ln in read_lines(path, "per-frame hand joints") if ln.strip()]
    if len(lines) < num_frames:
        raise DatasetError(
            f"{path}: {len(lines)} rows, but Subjects_info gives the video {num_frames} frames"
        )
    rows = np.empty((num_frames, 1 + 3 * NUM_JOINTS))
    for i, line in enumerate(lines[:num_frames]):
        tokens = line.split()
        where = f"{path}:{i + 1}"
        if len(tokens) != rows.shape[1]:
            raise DatasetError(
                f"{where}: {len(tokens)} columns, expected {rows.shape[1]} (frame index, then "
                f"21 joints x XYZ in mm)"
            )
        rows[i] = parse_floats(tokens, where)
        if rows[i, 0] != i:
            raise DatasetError(f"{where}: frame index {tokens[0]}, expected {i}")
    native = rows[:, 1:].reshape(num_frames, NUM_JOINTS, 3)
    return world_mm_to_camera(native[:, REORDER]).astype(np.float32)


def read_labels(root: str | Path) -> LabelSet:
    """Action and object names of ``action_object_info.txt``: actions in file-index order,
    objects in order of first appearance, verb = action name without its object words."""
    path = Path(root) / LABEL_FILE
    actions: list[Action] = []
    for n, line in enumerate(read_lines(path, "the action list")[1:], start=2):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{path}:{n}"
        if len(tokens) < 3:
            raise DatasetError(
                f"{where}: {len(tokens)} columns, expected 'action_idx action object pose "
                f"scenario'"
            )
        index = parse_int(tokens[0], where, "action index")
        if index != len(actions) + 1:
            raise DatasetError(f"{where}: action index {index}, expected {len(actions) + 1}")
        actions.append(Action(tokens[1], fpha_verb(tokens[1], tokens[2]), tokens[2]))
    if not actions:
        raise DatasetError(f"{path}: no actions listed")
    objects = tuple(dict.fromkeys(a.noun for a in actions))
    same = tuple(actions) == FPHA.actions
    return LabelSet(
        "fpha" if same else f"fpha:{Path(root).resolve().name}",
        tuple(actions),
        objects,
        NUM_JOINTS,
    )


def read_split(root: str | Path, split: str) -> list[tuple[str, str, str]]:
    """``(subject, action, seq)`` of every video listed for ``split`` in the split file.

    The label column is checked to be an integer; the action index comes from the action name
    (via ``action_object_info.txt``), as in the authors' reader."""
    check_split(split, SPLITS, "FPHA")
    path = Path(root) / SPLIT_FILE
    lines = read_lines(path, "the train/test video lists")
    videos: dict[str, list[tuple[str, str, str]]] = {"train": [], "test": []}
    current = "train"
    for n, line in enumerate(lines[1:], start=2):
        tokens = line.split()
        if not tokens:
            continue
        if tokens[0].startswith("Test"):
            current = "test"
            continue
        where = f"{path}:{n}"
        parts = tokens[0].split("/")
        if len(tokens) != 2 or len(parts) != 3:
            raise DatasetError(f"{where}: {line.strip()!r}, expected 'Subject_k/action/seq label'")
        parse_int(tokens[1], where, "action label")
        videos[current].append((parts[0], parts[1], parts[2]))
    if split == "test" and not any(ln.startswith("Test") for ln in lines):
        raise DatasetError(f"{path}: no line starting with 'Test' (the test video list)")
    return videos[split]


def _read_lengths(root: Path, subject: str) -> dict[tuple[str, str], int]:
    path = root / SUBJECTS_DIR / f"{subject}_info.txt"
    lengths = {}
    for n, line in enumerate(read_lines(path, "'action seq_idx length' lines")[3:], start=4):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{path}:{n}"
        if len(tokens) != 3:
            raise DatasetError(f"{where}: {len(tokens)} columns, expected 'action seq_idx length'")
        lengths[(tokens[0], tokens[1])] = parse_int(tokens[2], where, "length")
    return lengths


def load_fpha(
    root: str | Path,
    split: str = "train",
    cache_dir: str | Path | None = None,
    check_images: bool = True,
) -> SequenceDataset:
    """Read one split (``train`` or ``test``) of an FPHA folder.

    Args:
        root: the data set folder (holding the files listed in the module docstring).
        split: ``train`` or ``test`` of the action recognition split.
        cache_dir: decoded-frame cache (see :meth:`SequenceDataset.build_cache`); default
            ``<root>/htt_cache`` when it exists.
        check_images: raise DatasetError now for any missing frame image (one ``stat`` each).

    Raises:
        DatasetError: a file is missing or malformed; the message names it (and the line).
    """
    root = Path(root)
    labels = read_labels(root)
    action_index = {a.name: i for i, a in enumerate(labels.actions)}
    lengths: dict[str, dict[tuple[str, str], int]] = {}
    sequences = []
    for subject, action, seq in read_split(root, split):
        key = f"{subject}/{action}/{seq}"
        if action not in action_index:
            raise DatasetError(f"{root / SPLIT_FILE}: video {key}: action not in {LABEL_FILE}")
        if subject not in lengths:
            lengths[subject] = _read_lengths(root, subject)
        num_frames = lengths[subject].get((action, seq))
        if num_frames is None:
            raise DatasetError(
                f"{root / SUBJECTS_DIR / f'{subject}_info.txt'}: no line for video {key}"
            )
        joints3d = read_skeleton(skeleton_path(root, subject, action, seq), num_frames)
        paths = tuple(image_path(root, subject, action, seq, f) for f in range(num_frames))
        if check_images:
            missing = next((p for p in paths if not p.is_file()), None)
            if missing is not None:
                raise DatasetError(f"{missing}: image file is missing (frame of video {key})")
        a = action_index[action]
        sequences.append(
            Sequence(
                key=key,
                subject=subject,
                action=a,
                object=labels.objects.index(labels.actions[a].noun),
                image_paths=paths,
                joints3d=joints3d,
                joints2d=project(joints3d, INTRINSICS).astype(np.float32),
                intrinsics=INTRINSICS.copy(),
                hand_valid=np.ones((num_frames, 1), dtype=bool),
                frame_ids=np.arange(num_frames, dtype=np.int64),
            )
        )
    return SequenceDataset(
        "fpha", root, split, labels, sequences, default_cache_dir(root, cache_dir)
    )
