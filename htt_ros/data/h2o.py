"""Reader of the H2O two-hand data set (Kwon et al. 2021), egocentric camera ``cam4``.

Layout read (relative to the data set root)::

    action_labels/action_{train,val}.txt   header, then "id path action_label start_act end_act
                                           ..." (columns 0-4 used)
    action_labels/action_test.txt          header, then "id path start_act end_act ... label"
                                           (label = last column; the official file has no
                                           labels, so add them to evaluate on it)
    action_labels/action_names.txt         optional (htt_ros extension): header, then
                                           "label action name words"; default: H2O's 36 names
    <path>/cam4/rgb480_270/<frame:06d>.png     480x270 RGB
    <path>/cam4/hand_pose/<frame:06d>.txt      128 numbers: left_valid, 21x3 left, right_valid,
                                               21x3 right (metres, camera frame)

``path`` is ``subject/scene/sequence``. Every action segment (frames ``start_act..end_act``
inclusive) is one :class:`~htt_ros.data.dataset.Sequence`; joints 0-20 are the left hand and
21-41 the right hand, wrist first. Action index = label - 1 (label 0, background, is not an
action); object index = the object's position among the nouns (last word of each action name) in
order of first appearance.
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
from htt_ros.labels import H2O, Action, LabelSet

SPLITS: tuple[str, ...] = ("train", "val", "test")
LABEL_DIR = "action_labels"
NAMES_FILE = "action_names.txt"
CAMERA = "cam4"
FULL_RES_INTRINSICS = np.array(
    [
        [636.6593017578125, 0.0, 635.283881879317],
        [0.0, 636.251953125, 366.8740353496978],
        [0.0, 0.0, 1.0],
    ]
)
INTRINSICS = np.diag([0.375, 0.375, 1.0]) @ FULL_RES_INTRINSICS  # 1280x720 -> 480x270
NUM_JOINTS = 42
POSE_VALUES = 2 * (1 + 21 * 3)


def split_file(root: Path, split: str) -> Path:
    return root / LABEL_DIR / f"action_{split}.txt"


def image_path(root: Path, path: str, frame: int) -> Path:
    return root / path / CAMERA / "rgb480_270" / f"{frame:06d}.png"


def pose_path(root: Path, path: str, frame: int) -> Path:
    return root / path / CAMERA / "hand_pose" / f"{frame:06d}.txt"


def format_hand_pose(joints: np.ndarray, valid: np.ndarray) -> str:
    """One ``hand_pose`` file's text for ``[42, 3]`` metres (left, right) and ``[2]`` flags."""
    values = []
    for hand in range(2):
        values.append(f"{float(valid[hand]):.0f}")
        values.extend(f"{x:.7f}" for x in joints[21 * hand : 21 * (hand + 1)].ravel())
    return " ".join(values) + "\n"


def read_hand_pose(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``([42, 3] float64 metres camera frame, [2] bool left/right validity)`` of one file."""
    lines = read_lines(path, "one line of 128 hand pose values")
    tokens = " ".join(lines).split()
    if len(tokens) != POSE_VALUES:
        raise DatasetError(
            f"{path}: {len(tokens)} values, expected {POSE_VALUES} (left_valid, 21x3 left "
            f"joints, right_valid, 21x3 right joints)"
        )
    values = parse_floats(tokens, str(path)).reshape(2, 1 + 21 * 3)
    return values[:, 1:].reshape(NUM_JOINTS, 3), values[:, 0] > 0.5


def read_labels(root: str | Path) -> LabelSet:
    """Action names from ``action_labels/action_names.txt`` if present, else H2O's 36 names;
    verb/noun split at the last word (the object)."""
    path = Path(root) / LABEL_DIR / NAMES_FILE
    if not path.is_file():
        return H2O
    actions: list[Action] = []
    for n, line in enumerate(read_lines(path, "action names")[1:], start=2):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{path}:{n}"
        if len(tokens) < 3:
            raise DatasetError(f"{where}: {line.strip()!r}, expected 'label verb... object'")
        label = parse_int(tokens[0], where, "action label")
        if label != len(actions) + 1:
            raise DatasetError(f"{where}: action label {label}, expected {len(actions) + 1}")
        actions.append(Action(" ".join(tokens[1:]), " ".join(tokens[1:-1]), tokens[-1]))
    if not actions:
        raise DatasetError(f"{path}: no actions listed")
    objects = tuple(dict.fromkeys(a.noun for a in actions))
    same = tuple(actions) == H2O.actions
    return LabelSet(
        "h2o" if same else f"h2o:{Path(root).resolve().name}", tuple(actions), objects, NUM_JOINTS
    )


def read_segments(root: str | Path, split: str) -> list[tuple[str, int, int, int]]:
    """``(path, label, start, end)`` of every action segment listed for ``split`` (label
    1-based, frames inclusive)."""
    check_split(split, SPLITS, "H2O")
    path = split_file(Path(root), split)
    layout = (
        "id path start_act end_act ... label"
        if split == "test"
        else ("id path action_label start_act end_act ...")
    )
    segments = []
    for n, line in enumerate(read_lines(path, f"'{layout}' lines")[1:], start=2):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{path}:{n}"
        if len(tokens) < 5:
            raise DatasetError(f"{where}: {len(tokens)} columns, expected '{layout}'")
        seg_id = parse_int(tokens[0], where, "segment id")
        if seg_id != len(segments) + 1:
            raise DatasetError(f"{where}: segment id {seg_id}, expected {len(segments) + 1}")
        if split == "test":
            label, start, end = tokens[-1], tokens[2], tokens[3]
        else:
            label, start, end = tokens[2], tokens[3], tokens[4]
        first, last = parse_int(start, where, "start frame"), parse_int(end, where, "end frame")
        if last < first:
            raise DatasetError(f"{where}: end frame {last} is before start frame {first}")
        segments.append((tokens[1], parse_int(label, where, "action label"), first, last))
    return segments


def load_h2o(
    root: str | Path,
    split: str = "train",
    cache_dir: str | Path | None = None,
    check_images: bool = True,
) -> SequenceDataset:
    """Read one split (``train``, ``val`` or ``test``) of an H2O folder, camera ``cam4``.

    Args:
        root: the data set folder (holding ``action_labels/`` and the subject folders).
        split: ``train``, ``val`` or ``test`` (the test file must carry labels, see above).
        cache_dir: decoded-frame cache (see :meth:`SequenceDataset.build_cache`); default
            ``<root>/htt_cache`` when it exists.
        check_images: raise DatasetError now for any missing frame image (one ``stat`` each).

    Raises:
        DatasetError: a file is missing or malformed; the message names it (and the line).
    """
    root = Path(root)
    labels = read_labels(root)
    sequences = []
    for n, (path, label, start, end) in enumerate(read_segments(root, split), start=2):
        if not 1 <= label <= len(labels.actions):
            raise DatasetError(
                f"{split_file(root, split)}:{n}: action label {label}, expected 1.."
                f"{len(labels.actions)}"
            )
        frame_ids = np.arange(start, end + 1, dtype=np.int64)
        joints = np.empty((len(frame_ids), NUM_JOINTS, 3), dtype=np.float32)
        valid = np.empty((len(frame_ids), 2), dtype=bool)
        for i, f in enumerate(frame_ids):
            joints[i], valid[i] = read_hand_pose(pose_path(root, path, int(f)))
        paths = tuple(image_path(root, path, int(f)) for f in frame_ids)
        key = f"{path}/{start:06d}-{end:06d}"
        if check_images:
            missing = next((p for p in paths if not p.is_file()), None)
            if missing is not None:
                raise DatasetError(f"{missing}: image file is missing (frame of segment {key})")
        action = labels.actions[label - 1]
        sequences.append(
            Sequence(
                key=key,
                subject=path.split("/")[0],
                action=label - 1,
                object=labels.objects.index(action.noun),
                image_paths=paths,
                joints3d=joints,
                joints2d=project(joints, INTRINSICS).astype(np.float32),
                intrinsics=INTRINSICS.copy(),
                hand_valid=valid,
                frame_ids=frame_ids,
            )
        )
    return SequenceDataset(
        "h2o", root, split, labels, sequences, default_cache_dir(root, cache_dir)
    )
