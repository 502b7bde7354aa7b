"""The official metrics on small cases computed by hand."""

from pathlib import Path

import numpy as np
import pytest

from htt_ros import metrics


def _offset(gt: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Prediction whose joint errors are ``errors`` [N, J] (shifted along x)."""
    pred = gt.copy()
    pred[..., 0] += errors
    return pred


def test_mepe_pck_auc_and_padding_by_hand() -> None:
    gt = np.random.default_rng(0).uniform(-0.1, 0.1, (3, 2, 3))
    errors = np.array([[0.01, 0.02], [0.03, 0.04], [0.5, 0.5]])  # frame 2 is padding
    pred = _offset(gt, errors)
    errs = metrics.joint_errors(pred, gt, not_padding=np.array([1.0, 1.0, 0.0]))
    assert np.allclose(errs, errors[:2])
    m = metrics.pose_metrics(errs, np.array([0.005, 0.015, 0.025, 0.035, 0.045]))
    assert m.mepe == pytest.approx(0.025)  # joint means 0.02 and 0.03
    assert np.allclose(m.per_joint, [0.02, 0.03])
    # Joint 0 PCK [0, .5, .5, 1, 1], joint 1 [0, 0, .5, .5, 1].
    assert np.allclose(m.pck, [0, 0.25, 0.5, 0.75, 1.0])
    # Trapezoid areas / 0.04: joint 0 (.25+.5+.75+1)*.01/.04 = .625, joint 1 .375.
    assert m.auc == pytest.approx(0.5)
    assert m.num_frames == 2
    unpadded = metrics.pose_metrics(metrics.joint_errors(pred, gt), m.thresholds)
    assert unpadded.mepe > 0.1  # the padded frame would dominate if it counted


def test_root_alignment_removes_translation_and_scores_20_joints() -> None:
    gt = np.random.default_rng(1).uniform(-0.1, 0.1, (4, 21, 3)) + np.array([0, 0, 0.5])
    shifted = gt + np.array([0.03, -0.04, 0.0])  # 5 cm global translation
    out = metrics.hand_pose_metrics(shifted, gt)
    assert set(out) == {"joints3d", "joints3d_cent"}
    assert out["joints3d"].mepe == pytest.approx(0.05)
    assert out["joints3d_cent"].mepe == pytest.approx(0.0, abs=1e-12)
    assert out["joints3d_cent"].per_joint.shape == (20,)
    assert out["joints3d"].auc == pytest.approx(1 - 0.05 / 0.08, abs=0.02)  # PCK jumps at 5 cm
    wrist_only = gt.copy()
    wrist_only[:, 0, 2] += 0.021
    out = metrics.hand_pose_metrics(wrist_only, gt)
    assert out["joints3d"].mepe == pytest.approx(0.021 / 21)
    assert out["joints3d_cent"].mepe == pytest.approx(0.021)  # every aligned joint is off


def test_two_hands_are_scored_separately_with_their_thresholds() -> None:
    gt = np.random.default_rng(2).uniform(-0.1, 0.1, (3, 42, 3)) + np.array([0, 0, 0.5])
    pred = gt.copy()
    pred[:, 21:, 1] += 0.01  # right hand 1 cm off, left exact
    out = metrics.hand_pose_metrics(pred, gt)
    assert out["left_joints3d"].mepe == 0.0
    assert out["right_joints3d"].mepe == pytest.approx(0.01)
    assert out["right_joints3d_cent"].mepe == pytest.approx(0.0, abs=1e-12)  # own wrist
    assert len(out["left_joints3d"].thresholds) == 37
    assert out["left_joints3d"].thresholds[-1] == pytest.approx(0.09)
    assert len(out["right_joints3d_cent"].thresholds) == 21


def test_threshold_ranges_match_the_facts() -> None:
    assert len(metrics.FPHA_THRESHOLDS) == 33 and metrics.FPHA_THRESHOLDS[-1] == 0.08
    assert len(metrics.H2O_THRESHOLDS) == 37 and metrics.H2O_THRESHOLDS[-1] == 0.09
    assert len(metrics.RA_THRESHOLDS) == 21 and metrics.RA_THRESHOLDS[-1] == 0.05
    for t in (metrics.FPHA_THRESHOLDS, metrics.H2O_THRESHOLDS, metrics.RA_THRESHOLDS):
        assert np.allclose(np.diff(t), 0.0025)


def test_object_accuracy_skips_padding() -> None:
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 5.0]])
    labels = np.array([0, 0, 1, 1])
    assert metrics.object_accuracy(logits, labels) == 0.5
    assert metrics.object_accuracy(logits, labels, np.array([1, 1, 0, 1])) == pytest.approx(2 / 3)
    assert metrics.object_accuracy(np.array([0, 1, 1, 1]), labels, np.array([1, 0, 1, 0])) == 1.0


def test_video_soft_voting_differs_from_clip_argmax() -> None:
    probs = np.array(
        [
            [0.55, 0.45, 0.0],  # video a (label 1): two clips narrowly wrong ...
            [0.55, 0.45, 0.0],
            [0.05, 0.95, 0.0],  # ... one clip confidently right: sums [1.15, 1.85, 0]
            [0.2, 0.1, 0.7],  # video b (label 2): right
        ]
    )
    result = metrics.video_action_accuracy(probs, [1, 1, 1, 2], ["a", "a", "a", "b"])
    assert result.videos == ["a", "b"]
    assert result.predictions.tolist() == [1, 2]
    assert result.accuracy == 1.0
    assert result.clip_accuracy == 0.5  # per-clip argmax gets 2 of 4
    assert np.allclose(result.scores[0], [1.15, 1.85, 0.0])
    with pytest.raises(ValueError, match="video 'a' has clips labelled 1 and 2"):
        metrics.video_action_accuracy(probs, [1, 2, 1, 2], ["a", "a", "a", "b"])


def test_softmax_and_confusion_matrix() -> None:
    p = metrics.softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    assert np.allclose(p, [[0.5, 0.5], [0.25, 0.75]])
    m = metrics.confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    assert m.tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_plots_write_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    gt = np.zeros((2, 21, 3)) + np.array([0, 0, 0.5])
    curves = metrics.hand_pose_metrics(gt + 0.01, gt)
    metrics.plot_pck(curves, tmp_path / "pck.png")
    metrics.plot_confusion(np.eye(3, dtype=int), ["a", "b", "c"], tmp_path / "cm.png")
    for name in ("pck.png", "cm.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
