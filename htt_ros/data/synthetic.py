"""Synthetic egocentric hand-object-action data, in memory or written as an FPHA or H2O folder.

A sequence shows one or two articulated hands (21 joints each, adult bone lengths scaled per
subject) seen by a head-mounted camera with the data set's 480x270 intrinsics. One hand grasps an
object (noun: ball, bottle, box or book; distinct shape and colour) and performs a verb over
seconds while the other (H2O layout) idles. The object sits in the palm, so it hides the fingers
curled behind it, and ``rotate`` turns that occlusion over time: those joints are best told from
neighbouring frames. ``push`` (away, then back) and ``pull`` (towards, then back) share the same
motions in a different order, so only a window spanning the whole action tells them apart.

Everything is drawn by :mod:`htt_ros.data.render` (shaded spheres, capsules and boxes over a
per-sequence background with head-motion jitter); the same seed gives the same data.
:func:`write_dataset` writes the layout the real readers read (``load_fpha`` / ``load_h2o``),
including the label files, so the synthetic set stands in for the real ones everywhere.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence as SequenceABC
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from htt_ros.data import fpha, h2o
from htt_ros.data.dataset import FRAME_RATE, IMAGE_SIZE, DatasetError, project
from htt_ros.data.render import Canvas
from htt_ros.labels import Action, LabelSet
from htt_ros.progress import Progress

LAYOUTS: tuple[str, ...] = ("fpha", "h2o")
VERBS: tuple[str, ...] = ("lift", "push", "pull", "rotate", "shake", "tilt")
NOUNS: tuple[str, ...] = ("ball", "bottle", "box", "book")
SPLIT_FRACTIONS = {"fpha": {"test": 0.3}, "h2o": {"val": 0.2, "test": 0.2}}  # rest is train

# Right hand in its own frame (metres): x towards the thumb, y along the fingers, z out of the
# palm. Row 0 is the thumb's first joint, rows 1-4 the index..little MCPs.
_BASES = np.array(
    [
        [0.020, 0.022, 0.008],
        [0.024, 0.086, 0.0],
        [0.002, 0.089, 0.0],
        [-0.018, 0.084, 0.0],
        [-0.036, 0.074, 0.0],
    ]
)
_LENGTHS = np.array(  # the three segments after each base, thumb to little
    [
        [0.036, 0.031, 0.026],
        [0.040, 0.024, 0.020],
        [0.045, 0.028, 0.021],
        [0.042, 0.026, 0.020],
        [0.033, 0.019, 0.018],
    ]
)
_SPREAD = np.array([0.0, 0.12, 0.0, -0.1, -0.2])  # finger abduction in the palm plane, radians
_THUMB_DIR = np.array([0.8, 0.55, 0.25]) / np.linalg.norm([0.8, 0.55, 0.25])
_RADII = np.array([0.0105, 0.0095, 0.0085, 0.0078])  # thumb, then finger segments 1..3
_OPEN = np.array([0.15, 0.1, 0.05])  # relaxed flexion per segment, radians
_PALM_CENTRE = np.array([-0.005, 0.045, 0.0])
_PALM_HALF = np.array([0.042, 0.045, 0.012])
_SKIN = np.array([[0.87, 0.68, 0.56], [0.76, 0.57, 0.45], [0.55, 0.38, 0.28], [0.95, 0.8, 0.7]])


@dataclass(frozen=True)
class _Shape:
    kind: str  # sphere | capsule | box
    size: tuple[float, float, float]  # sphere (r,..), capsule (r, half length,.), box half
    colour: tuple[float, float, float]
    grasp: tuple[float, float, float]  # finger flexion when holding it, radians
    thumb: tuple[float, float, float]


_SHAPES = {
    "ball": _Shape("sphere", (0.036, 0, 0), (0.85, 0.15, 0.1), (0.8, 0.7, 0.4), (0.3, 0.4, 0.3)),
    "bottle": _Shape(
        "capsule", (0.027, 0.065, 0), (0.1, 0.7, 0.3), (1.1, 1.2, 0.7), (0.5, 0.6, 0.4)
    ),
    "box": _Shape("box", (0.035, 0.03, 0.03), (0.15, 0.3, 0.85), (0.9, 1.0, 0.3), (0.4, 0.4, 0.3)),
    "book": _Shape(
        "box", (0.065, 0.085, 0.012), (0.6, 0.2, 0.7), (0.35, 0.3, 0.2), (0.2, 0.2, 0.1)
    ),
}


@dataclass(frozen=True)
class SyntheticSequence:
    """One generated sequence, in memory.

    Attributes:
        images: ``uint8 [F, 270, 480, 3]`` RGB (``[0, 270, 480, 3]`` when not rendered).
        joints3d: ``float32 [F, J, 3]`` metres, camera frame; J = 21 (right hand, fpha) or 42
            (left then right hand, h2o).
        joints2d: ``float32 [F, J, 2]`` pixels of the 480x270 image.
        intrinsics: ``[3, 3]`` the layout's 480x270 camera matrix.
        action: index into :func:`synthetic_labels` ``(layout).actions``.
        object: index into its ``objects``.
        fps: frame rate, Hz.
    """

    images: np.ndarray
    joints3d: np.ndarray
    joints2d: np.ndarray
    intrinsics: np.ndarray
    action: int
    object: int
    fps: float = FRAME_RATE


def synthetic_labels(layout: str) -> LabelSet:
    """The synthetic label set: every verb x noun, verb-major; objects = nouns."""
    _check_layout(layout)
    sep = "_" if layout == "fpha" else " "
    actions = tuple(Action(f"{v}{sep}{n}", v, n) for v in VERBS for n in NOUNS)
    return LabelSet(f"{layout}:synthetic", actions, NOUNS, 21 if layout == "fpha" else 42)


def generate_sequence(
    layout: str,
    action: int,
    num_frames: int = 64,
    seed: int | SequenceABC[int] = 0,
    subject: int = 0,
    render: bool = True,
) -> SyntheticSequence:
    """Generate one sequence of ``action`` (index into ``synthetic_labels(layout)``).

    Args:
        layout: ``fpha`` (right hand, FPHA intrinsics) or ``h2o`` (two hands, H2O intrinsics).
        action: action index; verb = ``action // len(NOUNS)``, noun = ``action % len(NOUNS)``.
        num_frames: frames at 30 Hz.
        seed: seed (or seed sequence) of everything random in this sequence except the subject.
        subject: subject id; fixes hand size, skin and sleeve colours.
        render: draw the images (False gives the annotations only, much faster).
    """
    _check_layout(layout)
    if not 0 <= action < len(VERBS) * len(NOUNS):
        raise ValueError(f"action {action} out of range 0..{len(VERBS) * len(NOUNS) - 1}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    rng = np.random.default_rng(seed)
    look = _subject_look(subject)
    intrinsics = fpha.INTRINSICS if layout == "fpha" else h2o.INTRINSICS
    verb, noun = VERBS[action // len(NOUNS)], NOUNS[action % len(NOUNS)]
    t = np.arange(num_frames) / FRAME_RATE
    acting_right = layout == "fpha" or rng.random() < 0.6
    actor = _acting_hand(rng, t, verb, _SHAPES[noun], look["scale"], right=acting_right)
    hands = {acting_right: actor}
    if layout == "h2o":
        hands[not acting_right] = _idle_hand(rng, t, look["scale"], right=not acting_right)
    order = [True] if layout == "fpha" else [False, True]  # left (0-20) before right (21-41)
    joints3d = np.concatenate([hands[r]["joints"] for r in order], axis=1).astype(np.float32)
    if render:
        images = _render(rng, intrinsics, hands, noun, look)
    else:
        images = np.zeros((0, IMAGE_SIZE[1], IMAGE_SIZE[0], 3), np.uint8)
    return SyntheticSequence(
        images=images,
        joints3d=joints3d,
        joints2d=project(joints3d, intrinsics).astype(np.float32),
        intrinsics=intrinsics.copy(),
        action=action,
        object=action % len(NOUNS),
    )


# ----------------------------------------------------------------------------------------------
# Hands and motion


def _subject_look(subject: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([7919, subject])
    skin = _SKIN[rng.integers(len(_SKIN))] + rng.uniform(-0.04, 0.04, 3)
    return {
        "scale": np.array(rng.uniform(0.9, 1.1)),
        "skin": np.clip(skin, 0, 1),
        "sleeve": rng.uniform(0.05, 0.9, 3),
    }


def _rot(axis: int, angle: np.ndarray) -> np.ndarray:
    """``[..., 3, 3]`` rotations by ``angle`` (radians) about coordinate ``axis``."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros((*angle.shape, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i], out[..., j, j], out[..., i, j], out[..., j, i] = c, c, -s, s
    return out


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _bump(x: np.ndarray) -> np.ndarray:
    """0 -> 1 -> 0 over ``x`` in [0, 1], 0 outside."""
    return np.sin(np.pi * np.clip(x, 0.0, 1.0)) ** 2


def _wobble(rng: np.random.Generator, t: np.ndarray, dims: int, amplitude: float) -> np.ndarray:
    """``[F, dims]`` smooth random motion: three sinusoids of 0.1-1 Hz per dimension."""
    freq = rng.uniform(0.1, 1.0, (3, dims))
    phase = rng.uniform(0, 2 * np.pi, (3, dims))
    return amplitude / 3 * np.sin(2 * np.pi * freq * t[:, None, None] + phase).sum(1)


def _hand_joints(flexion: np.ndarray, spread: np.ndarray, scale: float) -> np.ndarray:
    """Right-hand joints ``[F, 21, 3]`` in the hand frame from per-finger flexion ``[F, 5, 3]``
    and abduction ``[F, 5]`` (radians). Each finger bends in one plane."""
    frames = len(flexion)
    fingers = np.stack([np.sin(spread), np.cos(spread), np.zeros_like(spread)], -1)  # [F, 5, 3]
    fingers[:, 0] = _THUMB_DIR
    bend = np.broadcast_to(np.array([0.0, 0.0, 1.0]), fingers.shape).copy()
    towards_palm = np.array([-0.6, 0.1, 0.8])
    bend[:, 0] = towards_palm - (towards_palm @ _THUMB_DIR) * _THUMB_DIR
    bend[:, 0] /= np.linalg.norm(bend[:, 0], axis=-1, keepdims=True)
    phi = np.cumsum(flexion, axis=-1)[..., None]  # [F, 5, 3, 1]
    dirs = np.cos(phi) * fingers[:, :, None] + np.sin(phi) * bend[:, :, None]  # [F, 5, 3, 3]
    chain = _BASES[None, :, None] + np.cumsum(_LENGTHS[None, :, :, None] * dirs, axis=2)
    joints = np.concatenate(
        [np.broadcast_to(_BASES[None, :, None], (frames, 5, 1, 3)), chain], axis=2
    )  # [F, 5, 4, 3]: base, then the three joints after it
    wrist = np.zeros((frames, 1, 3))
    return scale * np.concatenate([wrist, joints.reshape(frames, 20, 3)], axis=1)


def _base_rotation(rng: np.random.Generator, side: float) -> np.ndarray:
    """Hand frame -> camera: fingers away and up the image, the palm turned from facing down
    towards facing the body's midline by a random roll (``side`` +1 right hand, -1 left)."""
    y = np.array([0.0, -0.55, 0.85])
    z = np.array([0.0, 0.85, 0.55])
    y, z = y / np.linalg.norm(y), z / np.linalg.norm(z)
    base = np.stack([np.cross(y, z), y, z], axis=1) @ _rot(1, -side * rng.uniform(0.2, 1.3))
    tweak = _rot(1, rng.uniform(-0.4, 0.4)) @ _rot(0, rng.uniform(-0.25, 0.25))
    return tweak @ _rot(2, rng.uniform(-0.3, 0.3)) @ base


def _verb_motion(
    rng: np.random.Generator, verb: str, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(translation [F, 3] m camera frame, twist [F] rad about the hand's y axis, tilt [F]
    rad about the optical axis)`` of ``verb``; the action happens in 20-90 % of the sequence."""
    s = t / max(t[-1], 1e-6)
    x = (s - 0.2) / 0.7
    move, twist, tilt = np.zeros((len(t), 3)), np.zeros(len(t)), np.zeros(len(t))
    hold = _smoothstep(x / 0.3) * _smoothstep((1 - x) / 0.3)
    sign = rng.choice([-1.0, 1.0])
    if verb == "lift":
        move[:, 1] = -rng.uniform(0.06, 0.1) * _smoothstep(x / 0.7)
    elif verb == "push":
        move[:, 2] = rng.uniform(0.06, 0.1) * _bump(x)
    elif verb == "pull":
        move[:, 2] = -rng.uniform(0.06, 0.1) * _bump(x)
    elif verb == "rotate":
        twist = sign * rng.uniform(1.0, 1.6) * _bump(x)
    elif verb == "shake":
        freq, amp = rng.uniform(2.5, 3.5), rng.uniform(0.015, 0.025)
        move[:, 1] = amp * np.sin(2 * np.pi * freq * t) * hold
    elif verb == "tilt":
        tilt = sign * rng.uniform(0.8, 1.2) * hold
    else:
        raise ValueError(f"unknown verb {verb!r}; expected one of {list(VERBS)}")
    return move, twist, tilt


def _pose_hand(
    local: np.ndarray, rotation: np.ndarray, pivot_local: np.ndarray, pivot_cam: np.ndarray
) -> np.ndarray:
    """Points ``[F, N, 3]`` of the hand frame -> camera frame, rotating about ``pivot_local``."""
    return np.einsum("fij,fnj->fni", rotation, local - pivot_local) + pivot_cam[:, None]


def _acting_hand(
    rng: np.random.Generator, t: np.ndarray, verb: str, shape: _Shape, scale: float, right: bool
) -> dict[str, np.ndarray]:
    frames = len(t)
    mirror = np.diag([1.0 if right else -1.0, 1.0, 1.0])  # a left hand is a mirrored right one
    grip = _smoothstep(t / max(0.15 * t[-1], 1e-6))[:, None, None]  # closes in the first 15 %
    grasp = np.array([shape.thumb] + [shape.grasp] * 4)
    flexion = _OPEN + grip * (grasp - _OPEN) + _wobble(rng, t, 15, 0.06).reshape(frames, 5, 3)
    spread = _SPREAD + _wobble(rng, t, 5, 0.05)
    local = _hand_joints(flexion, spread, scale) @ mirror
    # The object rests against the palm, towards the fingers, centred across the hand.
    depth = shape.size[0] if shape.kind != "box" else shape.size[2]
    obj_local = mirror @ (
        scale * (_PALM_CENTRE + np.array([0.0, 0.012, _PALM_HALF[2]])) + [0, 0, depth]
    )
    move, twist, tilt = _verb_motion(rng, verb, t)
    side = 1.0 if right else -1.0
    start = np.array(
        [side * rng.uniform(0.0, 0.07), rng.uniform(0.0, 0.05), rng.uniform(0.38, 0.48)]
    )
    pivot = start + move + _wobble(rng, t, 3, 0.006)
    rotation = (
        _rot(2, tilt)
        @ _base_rotation(rng, side)
        @ _rot(1, twist)
        @ _rot(0, _wobble(rng, t, 1, 0.08)[:, 0])
    )
    palm = np.broadcast_to(mirror @ (scale * _PALM_CENTRE), (frames, 1, 3))
    posed = _pose_hand(np.concatenate([local, palm], axis=1), rotation, obj_local, pivot)
    return {
        "joints": posed[:, :21],
        "rotation": rotation @ mirror,
        "palm": posed[:, 21],
        "object": pivot,
        "scale": np.array(scale),
        "side": np.array(side),
    }


def _idle_hand(
    rng: np.random.Generator, t: np.ndarray, scale: float, right: bool
) -> dict[str, np.ndarray]:
    frames = len(t)
    mirror = np.diag([1.0 if right else -1.0, 1.0, 1.0])
    flexion = np.array([0.3, 0.45, 0.3]) + _wobble(rng, t, 15, 0.15).reshape(frames, 5, 3)
    local = _hand_joints(flexion, _SPREAD + _wobble(rng, t, 5, 0.08), scale) @ mirror
    side = 1.0 if right else -1.0
    start = np.array(
        [side * rng.uniform(0.1, 0.16), rng.uniform(0.03, 0.08), rng.uniform(0.38, 0.5)]
    )
    pivot = start + _wobble(rng, t, 3, 0.015)
    rotation = _base_rotation(rng, side) @ _rot(
        1, side * rng.uniform(0.0, 0.5) + _wobble(rng, t, 1, 0.1)[:, 0]
    )
    palm_local = mirror @ (scale * _PALM_CENTRE)
    return {
        "joints": _pose_hand(local, rotation, palm_local, pivot),
        "rotation": rotation @ mirror,
        "palm": pivot,
        "scale": np.array(scale),
        "side": np.array(side),
    }


# ----------------------------------------------------------------------------------------------
# Rendering


def _background(rng: np.random.Generator, margin: int) -> np.ndarray:
    """``float32 [H + 2 margin, W + 2 margin, 3]`` room: smooth colour field, a table, clutter."""
    width, height = IMAGE_SIZE[0] + 2 * margin, IMAGE_SIZE[1] + 2 * margin
    coarse = rng.uniform(0.15, 0.85, (4, 6, 3))
    field = (
        np.asarray(
            Image.fromarray((coarse * 255).astype(np.uint8)).resize(
                (width, height), Image.BILINEAR
            ),
            dtype=np.float32,
        )
        / 255.0
    )
    horizon = int(rng.uniform(0.3, 0.6) * height)
    field[horizon:] = 0.4 * field[horizon:] + 0.6 * rng.uniform(0.2, 0.8, 3)
    for _ in range(rng.integers(3, 8)):
        x0, y0 = rng.integers(0, width - 20), rng.integers(0, height - 20)
        w, h = rng.integers(15, 120), rng.integers(10, 80)
        field[y0 : y0 + h, x0 : x0 + w] = rng.uniform(0.05, 0.95, 3)
    field += rng.normal(0.0, 0.02, field.shape).astype(np.float32)  # sensor-like grain
    return field


def _render(
    rng: np.random.Generator,
    intrinsics: np.ndarray,
    hands: dict[bool, dict[str, np.ndarray]],
    noun: str,
    look: dict[str, np.ndarray],
) -> np.ndarray:
    margin = 12
    background = _background(rng, margin)
    frames = len(next(iter(hands.values()))["joints"])
    shake = np.clip(_wobble(rng, np.arange(frames) / FRAME_RATE, 2, 8.0), -margin, margin)
    light = np.array([rng.uniform(-0.5, 0.5), -0.7, -rng.uniform(0.3, 0.8)])
    canvas = Canvas(intrinsics, IMAGE_SIZE, light)
    shape = _SHAPES[noun]
    colour = np.clip(np.array(shape.colour) + rng.uniform(-0.08, 0.08, 3), 0, 1)
    skin, sleeve = look["skin"], look["sleeve"]
    images = np.empty((frames, IMAGE_SIZE[1], IMAGE_SIZE[0], 3), np.uint8)
    for f in range(frames):
        dx, dy = (margin + shake[f]).astype(int)
        canvas.clear(background[dy : dy + IMAGE_SIZE[1], dx : dx + IMAGE_SIZE[0]])
        for hand in hands.values():
            joints, rot, scale = hand["joints"][f], hand["rotation"][f], float(hand["scale"])
            elbow = joints[0] + 0.25 * np.array([0.35 * hand["side"], 0.95, -0.3])  # image bottom
            canvas.capsule(joints[0], elbow, 0.022 * scale, sleeve)
            canvas.box(hand["palm"][f], rot, scale * _PALM_HALF, skin * 0.95)
            canvas.capsule(joints[0], joints[1], scale * 0.013, skin)
            for finger in range(5):
                for seg in range(3):
                    a, b = 1 + 4 * finger + seg, 2 + 4 * finger + seg
                    radius = _RADII[0] if finger == 0 else _RADII[1 + seg]
                    canvas.capsule(joints[a], joints[b], scale * radius, skin)
            if "object" in hand:
                _draw_object(canvas, shape, hand["object"][f], rot, colour)
        images[f] = canvas.image()
    return images


def _draw_object(
    canvas: Canvas, shape: _Shape, centre: np.ndarray, rotation: np.ndarray, colour: np.ndarray
) -> None:
    if shape.kind == "sphere":
        canvas.sphere(centre, shape.size[0], colour)
    elif shape.kind == "capsule":  # axis across the palm (the hand's x axis)
        axis = shape.size[1] * rotation[:, 0]
        canvas.capsule(centre - axis, centre + axis, shape.size[0], colour)
    else:
        canvas.box(centre, rotation, np.array(shape.size), colour)


# ----------------------------------------------------------------------------------------------
# Writing the FPHA and H2O layouts


@dataclass(frozen=True)
class WrittenSequence:
    """What :func:`write_dataset` wrote for one sequence; ``generate_sequence(layout, action,
    num_frames, seed, subject)`` regenerates it.

    Attributes:
        split: ``train``, ``val`` or ``test``.
        folder: fpha ``Subject_k/action/seq``; h2o ``subject/scene/sequence``.
        first_frame: frame number of the sequence's first frame (h2o segments start later).
    """

    layout: str
    root: Path
    split: str
    seed: tuple[int, int]
    action: int
    num_frames: int
    subject: int
    folder: str
    first_frame: int


def write_dataset(
    out_dir: str | Path,
    layout: str,
    seed: int = 0,
    sequences: int = 24,
    frames: int = 64,
    subjects: int = 4,
    workers: int = 1,
    progress: bool = True,
) -> list[WrittenSequence]:
    """Write a synthetic data set in the ``layout`` folder format; returns what it wrote.

    Args:
        out_dir: folder to write into (created).
        layout: ``fpha`` (videos of one right hand) or ``h2o`` (two-hand action segments, two
            per recording folder).
        seed: the data set seed; sequence ``i`` uses ``(seed, i)``, so each sequence is the same
            whatever ``workers`` is.
        sequences: videos (fpha) or action segments (h2o), split train/test 70/30 (fpha) or
            train/val/test 60/20/20 (h2o) with actions as balanced as the counts allow.
        frames: mean frames per sequence; lengths vary by +-25 %.
        subjects: number of distinct subjects (hand size and colours).
        workers: processes rendering in parallel.
        progress: show a progress bar.
    """
    _check_layout(layout)
    fractions = SPLIT_FRACTIONS[layout]
    if sequences < len(fractions) + 1:
        raise DatasetError(
            f"{layout} needs at least {len(fractions) + 1} sequences (one per split); "
            f"ask for {len(fractions) + 1} or more (--sequences)"
        )
    root = Path(out_dir)
    rng = np.random.default_rng([seed, 2**31])
    labels = synthetic_labels(layout)
    counts = {name: max(1, round(sequences * frac)) for name, frac in fractions.items()}
    counts = {"train": sequences - sum(counts.values()), **counts}
    plan: list[tuple[str, int, int]] = []  # (split, action, frames)
    for split, count in counts.items():
        order = rng.permutation(len(labels.actions))
        lengths = rng.integers(round(0.75 * frames), round(1.25 * frames) + 1, count)
        plan += [
            (split, int(order[j % len(order)]), int(max(lengths[j], 1))) for j in range(count)
        ]
    jobs, listing = _layout_jobs(layout, root, seed, plan, subjects)
    root.mkdir(parents=True, exist_ok=True)
    _write_label_files(layout, root, labels, plan, jobs, listing)
    total = sum(j.num_frames for j in jobs)
    with Progress(f"htt-synth: {layout}", total, enabled=progress) as bar:
        if workers <= 1:
            for job in jobs:
                bar.update(_write_job(job))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for done in pool.map(_write_job, jobs):
                    bar.update(done)
    return jobs


def _layout_jobs(
    layout: str, root: Path, seed: int, plan: list[tuple[str, int, int]], subjects: int
) -> tuple[list[WrittenSequence], list[int]]:
    """One job per planned sequence, and each job's position in its split listing."""
    jobs, listing = [], []
    per_split: Counter[str] = Counter()
    seq_counter: Counter[tuple[int, int]] = Counter()
    next_frame = 0
    for i, (split, action, num_frames) in enumerate(plan):
        position = per_split[split]
        per_split[split] += 1
        if layout == "fpha":
            subject = position % subjects
            seq_counter[(subject, action)] += 1
            name = synthetic_labels("fpha").actions[action].name
            folder, first = f"Subject_{subject + 1}/{name}/{seq_counter[(subject, action)]}", 0
        else:
            recording = position // 2  # two segments per recording folder, 10 frames apart
            subject = recording % subjects
            folder = f"subject{subject + 1}/h{1 + recording % 2}/{split}{recording}"
            next_frame = 10 if position % 2 == 0 else next_frame
            first = next_frame
            next_frame += num_frames + 10
        jobs.append(
            WrittenSequence(
                layout, root, split, (seed, i), action, num_frames, subject, folder, first
            )
        )
        listing.append(position)
    return jobs, listing


def _write_label_files(
    layout: str,
    root: Path,
    labels: LabelSet,
    plan: list[tuple[str, int, int]],
    jobs: list[WrittenSequence],
    listing: list[int],
) -> None:
    if layout == "fpha":
        lines = ["action_id action_name object_name object_pose scenario"]
        lines += [
            f"{i + 1} {a.name} {a.noun} none synthetic" for i, a in enumerate(labels.actions)
        ]
        (root / fpha.LABEL_FILE).write_text("\n".join(lines) + "\n")
        split_lines = {s: [] for s in fpha.SPLITS}
        info: dict[str, list[str]] = {}
        for (split, action, _), job in zip(plan, jobs, strict=True):
            split_lines[split].append(f"{job.folder} {action}")
            subject, name, seq = job.folder.split("/")
            info.setdefault(subject, []).append(f"{name} {seq} {job.num_frames}")
        text = [f"Training {len(split_lines['train'])}", *split_lines["train"]]
        text += [f"Test {len(split_lines['test'])}", *split_lines["test"]]
        (root / fpha.SPLIT_FILE).write_text("\n".join(text) + "\n")
        (root / fpha.SUBJECTS_DIR).mkdir(exist_ok=True)
        for subject, rows in info.items():
            header = [f"{subject} (htt_ros synthetic)", "action sequence length", ""]
            path = root / fpha.SUBJECTS_DIR / f"{subject}_info.txt"
            path.write_text("\n".join(header + rows) + "\n")
        return
    label_dir = root / h2o.LABEL_DIR
    label_dir.mkdir(parents=True, exist_ok=True)
    names = ["label action_name"] + [f"{i + 1} {a.name}" for i, a in enumerate(labels.actions)]
    (label_dir / h2o.NAMES_FILE).write_text("\n".join(names) + "\n")
    rows: dict[str, list[str]] = {s: [] for s in h2o.SPLITS}
    for (split, action, _), job, position in zip(plan, jobs, listing, strict=True):
        start, end = job.first_frame, job.first_frame + job.num_frames - 1
        if split == "test":  # the official column order, plus the label H2O keeps hidden
            rows[split].append(
                f"{position + 1} {job.folder} {start} {end} {start} {end} {action + 1}"
            )
        else:
            rows[split].append(
                f"{position + 1} {job.folder} {action + 1} {start} {end} {start} {end}"
            )
    for split, lines in rows.items():
        header = "id path " + (
            "start_act end_act start_frame end_frame action_label"
            if split == "test"
            else "action_label start_act end_act start_frame end_frame"
        )
        h2o.split_file(root, split).write_text("\n".join([header, *lines]) + "\n")


def _write_job(job: WrittenSequence) -> int:
    seq = generate_sequence(job.layout, job.action, job.num_frames, job.seed, job.subject)
    if job.layout == "fpha":
        subject, action, name = job.folder.split("/")
        pose_file = fpha.skeleton_path(job.root, subject, action, name)
        pose_file.parent.mkdir(parents=True, exist_ok=True)
        pose_file.write_text(fpha.format_skeleton(seq.joints3d.astype(np.float64)))
        for f, image in enumerate(seq.images):
            path = fpha.image_path(job.root, subject, action, name, f)
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(path, quality=92)
        return job.num_frames
    valid = np.ones(2)
    for i, image in enumerate(seq.images):
        frame = job.first_frame + i
        pose_file = h2o.pose_path(job.root, job.folder, frame)
        image_file = h2o.image_path(job.root, job.folder, frame)
        if i == 0:
            pose_file.parent.mkdir(parents=True, exist_ok=True)
            image_file.parent.mkdir(parents=True, exist_ok=True)
        pose_file.write_text(h2o.format_hand_pose(seq.joints3d[i].astype(np.float64), valid))
        Image.fromarray(image).save(image_file, compress_level=1)
    return job.num_frames


def _check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {list(LAYOUTS)}")


def default_workers() -> int:
    """Worker processes for :func:`write_dataset` on this machine (its CPU count, at most 8)."""
    return max(1, min(8, os.cpu_count() or 1))
