"""The synthetic generator: determinism, plausible hands, occlusion, labels and the CLI."""

from pathlib import Path

import numpy as np
import pytest

from htt_ros.data import load_fpha, load_h2o
from htt_ros.data.synthetic import NOUNS, VERBS, generate_sequence, synthetic_labels
from htt_ros.skeleton import BONES
from htt_ros.tools.htt_synth import main


def test_same_seed_same_sequence_other_seed_differs() -> None:
    a = generate_sequence("h2o", 7, num_frames=4, seed=11, subject=2)
    b = generate_sequence("h2o", 7, num_frames=4, seed=11, subject=2)
    c = generate_sequence("h2o", 7, num_frames=4, seed=12, subject=2)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.joints3d, b.joints3d)
    assert not np.allclose(a.joints3d, c.joints3d)
    assert np.abs(a.images.astype(int) - c.images).mean() > 5  # other background and motion


@pytest.mark.parametrize("layout", ["fpha", "h2o"])
def test_hands_are_plausible_and_in_view(layout: str) -> None:
    seq = generate_sequence(layout, 3, num_frames=60, seed=1, render=False)
    joints = seq.joints3d.reshape(60, -1, 21, 3)  # [F, hands, 21, 3]
    assert joints.shape[1] == (1 if layout == "fpha" else 2)
    bones = np.linalg.norm(
        joints[:, :, [c for _, c in BONES]] - joints[:, :, [p for p, _ in BONES]], axis=-1
    )
    assert bones.min() > 0.015 and bones.max() < 0.11  # adult bones, metres
    assert np.allclose(bones, bones[:1], atol=1e-6)  # rigid: lengths never change over time
    assert seq.joints3d[..., 2].min() > 0.2 and seq.joints3d[..., 2].max() < 0.8
    inside = (seq.joints2d >= 0).all(-1) & (seq.joints2d < [480, 270]).all(-1)
    assert inside.mean() > 0.9
    assert np.linalg.norm(np.diff(seq.joints3d, axis=0), axis=-1).max() < 0.05  # 30 Hz motion


def test_fingers_move_and_get_hidden_by_the_object() -> None:
    """In 'rotate ball' the ball covers some fingertip pixels in some frames but not all."""
    seq = generate_sequence("fpha", VERBS.index("rotate") * len(NOUNS), num_frames=60, seed=4)
    tips = np.round(seq.joints2d[:, [4, 8, 12, 16, 20]]).astype(int)  # [F, 5, 2]
    frames = np.arange(60)[:, None]
    colour = seq.images[frames, tips[..., 1].clip(0, 269), tips[..., 0].clip(0, 479)]
    red = (colour[..., 0] > 100) & (colour[..., 0] > 2.0 * colour[..., 1].astype(int))
    assert 0 < red.mean() < 1  # sometimes the red ball is what the camera sees at a fingertip
    assert red.any(axis=1).sum() != red.all(axis=1).sum()  # and which tips varies over time


def test_verbs_distinct_and_push_pull_share_motions() -> None:
    def depth(verb: str) -> np.ndarray:
        action = VERBS.index(verb) * len(NOUNS)
        return generate_sequence("fpha", action, 90, seed=9, render=False).joints3d[:, 0, 2]

    push, pull, lift = depth("push"), depth("pull"), depth("lift")
    # push goes away then back, pull comes closer then back: both move both ways.
    for z in (push, pull):
        assert np.diff(z).max() > 0.002 and np.diff(z).min() < -0.002
    assert push[45] > push[0] + 0.03 and pull[45] < pull[0] - 0.03
    assert abs(lift[-1] - lift[0]) < 0.04


def test_labels_are_verbs_times_nouns() -> None:
    h2o, fpha = synthetic_labels("h2o"), synthetic_labels("fpha")
    assert len(h2o.actions) == len(VERBS) * len(NOUNS) and h2o.objects == NOUNS
    assert h2o.actions[1].name == f"{VERBS[0]} {NOUNS[1]}"
    assert fpha.actions[1].name == f"{VERBS[0]}_{NOUNS[1]}"
    assert (fpha.num_joints, h2o.num_joints) == (21, 42)
    seq = generate_sequence("h2o", 5, num_frames=2, render=False)
    assert h2o.actions[seq.action].noun == h2o.objects[seq.object]
    with pytest.raises(ValueError, match="unknown layout 'ho2'"):
        generate_sequence("ho2", 0)


def test_cli_writes_a_readable_deterministic_folder(tmp_path: Path) -> None:
    args = ["--layout", "h2o", "--sequences", "3", "--frames", "3", "--seed", "4", "--quiet"]
    assert main([str(tmp_path / "a"), *args, "--workers", "1"]) == 0
    assert main([str(tmp_path / "b"), *args, "--workers", "2"]) == 0
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.*"))
    assert files_a == files_b and len(files_a) > 10
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert [len(load_h2o(tmp_path / "a", s)) for s in ("train", "val", "test")] == [1, 1, 1]
    assert main([str(tmp_path / "a"), *args]) == 2  # not empty
    assert main([str(tmp_path / "c"), "--layout", "fpha", "--sequences", "1", "--quiet"]) == 2
    assert (
        main(
            [
                str(tmp_path / "d"),
                "--layout",
                "fpha",
                "--sequences",
                "2",
                "--frames",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    assert len(load_fpha(tmp_path / "d", "test")) == 1
