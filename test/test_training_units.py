"""Unit tests of training/: clip sampling, augmentation geometry, loss terms, config checks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DistributedSampler

from htt_ros.data import IMAGE_SIZE, Sequence, SequenceDataset
from htt_ros.data.dataset import project
from htt_ros.data.fpha import INTRINSICS
from htt_ros.geometry import POSE_FRAME
from htt_ros.labels import Action, LabelSet
from htt_ros.model.decoding import decode_25d
from training.augment import augment_clip
from training.clips import ClipDataset, ClipSpec, clip_frames, clip_starts
from training.config import AugmentSection, Config, ConfigError, LossSection, load_config
from training.distributed import DistInfo, EpochSampler
from training.engine import NonFiniteLossError, train_one_epoch
from training.experiments.claims import settings
from training.losses import htt_loss, mean_raw_pose
from training.train import cli

LABELS = LabelSet("toy", (Action("lift_ball", "lift", "ball"),), ("ball",), 21)


def _joints(num_frames: int, seed: int = 0) -> np.ndarray:
    """``[F, 21, 3]`` joints 0.3-0.5 m in front of the camera, near the optical axis."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-0.05, 0.05, (num_frames, 21, 2))
    z = rng.uniform(0.3, 0.5, (num_frames, 21, 1))
    return np.concatenate([xy, z], axis=-1).astype(np.float32)


def _dataset(lengths: list[int], cache_dir: Path | None = None) -> SequenceDataset:
    """Hand-built sequences of ``lengths`` frames; frame f of sequence i is filled with the
    value ``10 * i + f`` when ``cache_dir`` is given (the decoded-frame cache the readers use)."""
    sequences = []
    for i, n in enumerate(lengths):
        joints = _joints(n, seed=i)
        seq = Sequence(
            key=f"S/a/{i}",
            subject="S",
            action=0,
            object=0,
            image_paths=tuple(Path(f"/nonexistent/{i}/{f}.png") for f in range(n)),
            joints3d=joints,
            joints2d=project(joints, INTRINSICS).astype(np.float32),
            intrinsics=INTRINSICS.copy(),
            hand_valid=np.ones((n, 1), bool),
            frame_ids=np.arange(n),
        )
        sequences.append(seq)
        if cache_dir is not None:
            frames = np.empty((n, IMAGE_SIZE[1], IMAGE_SIZE[0], 3), np.uint8)
            frames[:] = (10 * i + np.arange(n))[:, None, None, None]
            np.save(cache_dir / seq.cache_name, frames)
    return SequenceDataset("fpha", Path("/nonexistent"), "train", LABELS, sequences, cache_dir)


# -- clip sampling -------------------------------------------------------------------------------


def test_clip_starts_follow_the_train_and_test_rules() -> None:
    spec = ClipSpec(length=4, window=2, spacing=2)  # period 8: train k % 8 < 4, test k % 8 < 2
    assert clip_starts(20, spec, train=True).tolist() == [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19]
    assert clip_starts(20, spec, train=False).tolist() == [0, 1, 8, 9, 16, 17]
    paper = ClipSpec()  # T=128, t=16, spacing 2: (k mod 256) < 32 and < 2
    k = np.arange(600)
    assert np.array_equal(clip_starts(600, paper, True), k[k % 256 < 32])
    assert clip_starts(600, paper, False).tolist() == [0, 1, 256, 257, 512, 513]


def test_clip_padding_repeats_the_last_real_frame() -> None:
    spec = ClipSpec(length=4, window=2, spacing=2)
    frames, valid = clip_frames(16, 20, spec)
    assert frames.tolist() == [16, 18, 18, 18]
    assert valid.tolist() == [True, True, False, False]
    frames, valid = clip_frames(17, 20, spec)
    assert frames.tolist() == [17, 19, 19, 19]
    assert valid.tolist() == [True, True, False, False]
    frames, valid = clip_frames(2, 20, spec)
    assert frames.tolist() == [2, 4, 6, 8] and valid.all()


@pytest.mark.parametrize("num_frames", [1, 7, 8, 23, 64])
def test_test_clips_cover_every_frame_exactly_once(num_frames: int) -> None:
    spec = ClipSpec(length=4, window=2, spacing=2)
    covered = np.concatenate(
        [
            f[v]
            for f, v in (
                clip_frames(s, num_frames, spec) for s in clip_starts(num_frames, spec, False)
            )
        ]
    )
    assert sorted(covered.tolist()) == list(range(num_frames))


def test_clip_dataset_items_padding_and_resize(tmp_path: Path) -> None:
    data = _dataset([11, 5], cache_dir=tmp_path)
    spec = ClipSpec(length=4, window=2, spacing=2)
    train = ClipDataset(data, spec, train=True)
    assert train.items == [
        (0, 0),
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 8),
        (0, 9),
        (0, 10),
        (1, 0),
        (1, 1),
        (1, 2),
        (1, 3),
    ]
    test = ClipDataset(data, spec, train=False, image_size=(64, 36))
    assert test.items == [(0, 0), (0, 1), (0, 8), (0, 9), (1, 0), (1, 1)]
    item = test[2]  # sequence 0 from frame 8: frames 8, 10, then 10 repeated as padding
    assert item["images"].shape == (4, 3, 36, 64)
    assert item["not_padding"].tolist() == [1.0, 1.0, 0.0, 0.0]
    pixel = (item["images"][:, 0, 18, 32] + 0.5) * 255  # frame values 8, 10, 10, 10
    assert torch.allclose(pixel, torch.tensor([8.0, 10.0, 10.0, 10.0]), atol=0.01)
    seq = data[0]
    assert torch.allclose(item["joints3d"], torch.from_numpy(seq.joints3d[[8, 10, 10, 10]]))
    # intrinsics and 2D targets stay in the 480x270 decoding frame at any input size
    K = item["intrinsics"][0].double().numpy()
    assert np.allclose(K, INTRINSICS)
    expected = project(item["joints3d"].double().numpy(), K)
    assert np.allclose(item["joints25d"][..., :2].numpy(), expected, atol=1e-3)
    assert torch.equal(item["joints25d"][..., 2], item["joints3d"][..., 2])
    assert item["video"] == "S/a/0" and int(item["action"]) == 0


# -- augmentation --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [IMAGE_SIZE, (96, 54)])
def test_augmentation_moves_image_joints_and_intrinsics_together(size) -> None:
    """The image shifts by whole pixels of its own size; the 2D joints and K, which stay in
    the 480x270 frame, shift by the same distance in that frame."""
    T, (W, H) = 3, size
    scale = W / IMAGE_SIZE[0]
    joints3d = _joints(T)
    joints2d = project(joints3d, INTRINSICS)
    images = torch.zeros((T, 3, H, W), dtype=torch.uint8)
    u0, v0 = np.round(joints2d[0, 0] * scale).astype(int)
    images[0, :, v0, u0] = 255  # one white pixel on frame 0's wrist
    geometric = AugmentSection(blur_radius=0, brightness=0, contrast=0, saturation=0, hue=0)
    moved = 0
    for seed in range(5):
        out, j2d, K = augment_clip(
            images, joints2d, INTRINSICS, geometric, np.random.default_rng(seed)
        )
        assert out.shape == (T, 3, H, W) and out.dtype == torch.float32
        # projecting the unchanged 3D joints with the augmented K gives the augmented 2D joints
        assert np.allclose(project(joints3d, K), j2d, atol=1e-4)
        shift = (j2d - joints2d) * scale  # in pixels of the image
        assert np.allclose(shift, shift[0, 0]) and np.abs(shift).max() <= 0.1 * W
        assert np.allclose(shift[0, 0], np.round(shift[0, 0]), atol=1e-9)  # whole pixels
        v, u = divmod(int(out[0, 0].argmax()), W)
        assert (u, v) == (u0 + round(shift[0, 0, 0]), v0 + round(shift[0, 0, 1]))
        moved += int(np.abs(shift).max() > 0)
    assert moved >= 4


def test_augmentation_translates_last_as_the_authors_do() -> None:
    """Blur and colour come before the translation: the border the shift uncovers is black
    (a contrast change applied after the shift would grey it)."""
    images = torch.full((2, 3, 36, 64), 200, dtype=torch.uint8)
    cfg = AugmentSection(translate=0.2, blur_radius=0.5, contrast=0.5, hue=0, saturation=0)
    for seed in range(5):
        out, j2d, _ = augment_clip(
            images, np.zeros((2, 21, 2)), INTRINSICS, cfg, np.random.default_rng(seed)
        )
        dx = round(float(j2d[0, 0, 0]) * 64 / IMAGE_SIZE[0])
        if dx:
            border = out[..., :dx] if dx > 0 else out[..., dx:]
            assert float(border.abs().max()) == 0.0
            assert float(out[..., 18, 32].min()) > 0.1  # the image itself keeps its colour
            return
    raise AssertionError("no seed shifted the clip in x")


def test_augmentation_is_deterministic_per_generator_and_keeps_range() -> None:
    images = torch.randint(0, 256, (4, 3, 36, 64), dtype=torch.uint8)
    joints2d = np.zeros((4, 21, 2))
    cfg = AugmentSection()
    a = augment_clip(images, joints2d, INTRINSICS, cfg, np.random.default_rng(7))
    b = augment_clip(images, joints2d, INTRINSICS, cfg, np.random.default_rng(7))
    c = augment_clip(images, joints2d, INTRINSICS, cfg, np.random.default_rng(8))
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    assert float(a[0].min()) >= 0.0 and float(a[0].max()) <= 1.0


# -- losses --------------------------------------------------------------------------------------


def _loss_inputs() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """One clip of 2 frames, the second padded (with large errors that must not count)."""
    J, (W, H) = 21, POSE_FRAME
    K = torch.tensor([[100.0, 0, 230], [0, 100.0, 130], [0, 0, 1]])
    centre = torch.tensor([W / 2, H / 2])
    target = torch.zeros(1, 2, J, 3)
    target[0, 0, :, :2] = centre + torch.tensor([1.0, 2.0])  # 1 px and 2 px off
    target[0, 0, :, 2] = 0.5  # raw s = 0 decodes to Z = 0.4 m: 0.1 m off
    target[0, 1] = 1000.0
    outputs = {
        "pose_raw": torch.zeros(1, 2, J, 3),  # -> u, v = image centre, Z = 0.4
        "object_logits": torch.tensor([[[0.0, 0.0, 0.0, 0.0], [50.0, 0.0, 0.0, 0.0]]]),
        "action_logits": torch.tensor([[0.0, math.log(3.0)]]),  # softmax [1/4, 3/4]
    }
    batch = {
        "intrinsics": K.expand(1, 2, 3, 3),
        "joints25d": target,
        "joints3d": torch.zeros(1, 2, J, 3),
        "object": torch.tensor([[2, 1]]),
        "action": torch.tensor([1]),
        "not_padding": torch.tensor([[1.0, 0.0]]),
    }
    return outputs, batch


def test_loss_terms_match_hand_computed_values_and_skip_padding() -> None:
    outputs, batch = _loss_inputs()
    total, terms = htt_loss(outputs, batch, LossSection())
    assert terms["loss_2d"].item() == pytest.approx(1.5)  # (1 + 2) / 2 per joint
    assert terms["loss_z"].item() == pytest.approx(0.1)
    assert terms["loss_object"].item() == pytest.approx(math.log(4.0))  # uniform over 4
    assert terms["loss_action"].item() == pytest.approx(math.log(4.0 / 3.0))
    expected = 1.5 + 100 * 0.1 + math.log(4.0) + math.log(4.0 / 3.0)
    assert total.item() == pytest.approx(expected, rel=1e-6)
    assert terms["loss"].item() == pytest.approx(expected, rel=1e-6)
    weighted, _ = htt_loss(outputs, batch, LossSection(2.0, 10.0, 0.0, 3.0))
    assert weighted.item() == pytest.approx(3.0 + 1.0 + 3 * math.log(4.0 / 3.0), rel=1e-6)


def test_mean_raw_pose_decodes_to_the_mean_2d_pose_and_depth() -> None:
    data = _dataset([5, 7])
    raw = torch.from_numpy(mean_raw_pose(data)).float()  # [J, 3]
    joints2d, depth, _ = decode_25d(raw, torch.from_numpy(INTRINSICS).float())
    joints3d = np.concatenate([s.joints3d for s in data.sequences])
    uv = np.concatenate([s.joints2d for s in data.sequences])
    assert np.allclose(depth.numpy(), joints3d[..., 2].mean(0), atol=1e-5)
    assert np.allclose(joints2d.numpy(), uv.mean(0), atol=1e-3)


def test_loss_with_every_frame_padded_is_action_only() -> None:
    outputs, batch = _loss_inputs()
    batch["not_padding"] = torch.zeros(1, 2)
    total, terms = htt_loss(outputs, batch, LossSection())
    assert terms["loss_2d"].item() == terms["loss_z"].item() == terms["loss_object"].item() == 0
    assert total.item() == pytest.approx(math.log(4.0 / 3.0))


class _Diverged(torch.nn.Module):
    """Stands in for HTT: returns the loss test's outputs with a NaN pose."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, images: torch.Tensor, valid: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs, _ = _loss_inputs()
        outputs["pose_raw"] = outputs["pose_raw"] * float("nan") + self.w
        return outputs


def test_non_finite_loss_stops_training() -> None:
    _, batch = _loss_inputs()
    batch["images"] = torch.zeros(1, 2, 3, 36, 64)
    model = _Diverged()
    optimizer = torch.optim.Adam(model.parameters())
    info = DistInfo(0, 1, 0, torch.device("cpu"))
    with pytest.raises(NonFiniteLossError, match="non-finite loss at epoch 1, step 1"):
        train_one_epoch(model, [batch], optimizer, LossSection(), 0, info)


def test_epoch_sampler_matches_distributed_sampler_and_draws_fresh_subsets() -> None:
    ranks = [DistInfo(r, 2, r, torch.device("cpu")) for r in range(2)]
    full = [EpochSampler(11, info, seed=3) for info in ranks]
    reference = [DistributedSampler(range(11), 2, r, shuffle=True, seed=3) for r in range(2)]
    for sampler in (*full, *reference):
        sampler.set_epoch(1)
    assert [list(s) for s in full] == [list(s) for s in reference]
    subset = [EpochSampler(11, info, seed=3, per_epoch=5) for info in ranks]
    drawn = []
    for epoch in range(2):
        for sampler in subset:
            sampler.set_epoch(epoch)
        items = [i for s in subset for i in s]
        assert len(items) == 6 and all(len(s) == 3 for s in subset) and len(set(items)) == 5
        drawn.append(set(items))
    assert drawn[0] != drawn[1]
    with pytest.raises(ConfigError, match=r"train\.clips_per_epoch"):
        Config.from_dict({"train": {"clips_per_epoch": -1}})


# -- configs and errors --------------------------------------------------------------------------


def test_shipped_configs_load() -> None:
    root = Path(__file__).resolve().parents[1] / "training" / "configs"
    fpha, h2o = load_config(root / "fpha.yaml"), load_config(root / "h2o.yaml")
    assert fpha.replace("data", workers=4) == Config()  # the paper's recipe is the default
    assert (h2o.data.dataset, h2o.data.val_split) == ("h2o", "val")
    synthetic = load_config(root / "synthetic.yaml")
    assert not synthetic.train.pretrained and synthetic.data.image_size != IMAGE_SIZE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"train": {"lrr": 1}}, "unknown key ['lrr']"),
        ({"optim": {}}, "unknown section ['optim']"),
        ({"data": {"dataset": "epic"}}, "allowed: ['fpha', 'h2o']"),
        ({"data": {"val_split": "val"}}, "data.val_split: 'val' is not a fpha split"),
        ({"data": {"image_size": [100, 100]}}, "data.image_size"),
        ({"train": {"lr": "fast"}}, "train.lr: expected float"),
        ({"train": {"epochs": 0}}, "train.epochs: must be a positive integer"),
        ({"model": {"clip_length": 20, "window": 16}}, "multiple of model.window"),
        ({"augment": {"hue": 0.9}}, "augment.hue"),
    ],
)
def test_invalid_configs_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        Config.from_dict(data)
    assert message in str(err.value)


def test_cli_reports_bad_inputs_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("train:\n  epochs: 1\n  optimiser: sgd\n")
    assert (
        cli(["--config", str(config), "--data", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    )
    err = capsys.readouterr().err
    assert "unknown key ['optimiser']" in err and "Traceback" not in err
    config.write_text("train:\n  epochs: 1\n")
    missing = tmp_path / "no_such_folder"
    assert (
        cli(["--config", str(config), "--data", str(missing), "--out", str(tmp_path / "r")]) == 2
    )
    err = capsys.readouterr().err
    assert f"data folder {missing} does not exist" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    assert (
        cli(
            [
                "--config",
                str(config),
                "--data",
                str(tmp_path / "empty"),
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "action_object_info.txt" in err and "Traceback" not in err


def test_claims_pairs_differ_only_in_t_or_T_with_equal_steps() -> None:
    base = Config.from_dict(
        {
            "model": {"window": 4, "clip_length": 4},
            "train": {"batch_size": 16, "clips_per_epoch": 1600},
        }
    )
    runs = {s.name: s.config for s in settings(base, [16, 1], [16, 64], action_batch=2)}
    pose_t16, pose_t1 = runs["pose_t16"], runs["pose_t1"]
    assert [pose_t16.model.window, pose_t1.model.window] == [16, 1]
    assert pose_t16 == pose_t1.replace("model", window=16)
    assert (pose_t16.model.clip_length, pose_t16.train.batch_size) == (16, 4)  # 64 frames/step
    assert pose_t16.train.clips_per_epoch == 400  # 100 steps, as the base
    short, long = runs["action_T16"], runs["action_T64"]
    assert long == short.replace("model", clip_length=64)
    assert (long.model.window, long.train.batch_size, long.train.clips_per_epoch) == (4, 2, 200)
    with pytest.raises(ConfigError, match="not a multiple"):
        settings(base.replace("train", batch_size=3), [16], [64])
    with pytest.raises(ConfigError, match="not a multiple of the config's t=4"):
        settings(base, [16], [18])
