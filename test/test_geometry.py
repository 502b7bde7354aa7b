"""2.5D -> 3D decoding: the formula on hand-computed numbers, numpy/torch twins agree."""

import numpy as np
import pytest
import torch

from htt_ros.geometry import decode_25d, scale_intrinsics
from htt_ros.model.decoding import decode_25d as decode_25d_torch


def test_decoding_matches_hand_computed_values():
    # fx=350, fy=300 (must be unused), principal point (230, 140); the 480x270 frame's
    # centre (240, 135) is what u, v are offset from, the principal point what X, Y are.
    K = np.array([[350.0, 0, 230.0], [0, 300.0, 140.0], [0, 0, 1]])
    raw = np.array([[0.5, -0.25, 100.0], [0.0, 0.0, 0.0]])
    joints2d, depth, joints3d = decode_25d(raw, K, (480, 270))
    # u = 100*0.5 + 240 = 290, v = 100*-0.25 + 135 = 110; Z = 350*1e-4*100 + 0.4 = 3.9
    np.testing.assert_allclose(joints2d, [[290.0, 110.0], [240.0, 135.0]])
    np.testing.assert_allclose(depth, [3.9, 0.4])
    # X = (290-230)*3.9/350, Y = (110-140)*3.9/350 (fx for both axes)
    np.testing.assert_allclose(
        joints3d,
        [[60 * 3.9 / 350, -30 * 3.9 / 350, 3.9], [10 * 0.4 / 350, -5 * 0.4 / 350, 0.4]],
        rtol=1e-12,
    )


def test_numpy_and_torch_twins_agree():
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(8, 42, 3))
    K = np.tile(np.eye(3), (8, 1, 1))
    K[:, 0, 0] = rng.uniform(200, 400, 8)
    K[:, 1, 1] = rng.uniform(200, 400, 8)
    K[:, :2, 2] = rng.uniform(100, 250, (8, 2))
    ours = decode_25d(raw, K, (112, 64))
    theirs = decode_25d_torch(torch.from_numpy(raw), torch.from_numpy(K), (112, 64))
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12, atol=1e-12)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match=r"\[\.\.\., J, 3\]"):
        decode_25d(np.zeros((4, 2)), np.eye(3), (480, 270))


def test_scale_intrinsics_fpha_to_network_size():
    K = np.array([[1395.749023, 0, 935.732544], [0, 1395.749268, 540.681030], [0, 0, 1]])
    scaled = scale_intrinsics(K, (1920, 1080), (480, 270))
    np.testing.assert_allclose(
        scaled[:2], [[348.93725575, 0, 233.933136], [0, 348.937317, 135.1702575]]
    )
    np.testing.assert_array_equal(scaled[2], [0, 0, 1])
