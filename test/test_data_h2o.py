"""The H2O reader: hand-made files with known numbers, synthetic folders and broken folders."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from htt_ros.data import DatasetError, load_h2o
from htt_ros.data.synthetic import generate_sequence, synthetic_labels, write_dataset
from htt_ros.labels import H2O


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("h2o")
    written = write_dataset(root, "h2o", seed=5, sequences=7, frames=5, progress=False)
    return root, written


def _hand_made(root: Path) -> np.ndarray:
    """Two segments of one recording, official label names; returns the [3, 128] pose rows."""
    labels = root / "action_labels"
    labels.mkdir(parents=True)
    header = "id path action_label start_act end_act start_frame end_frame\n"
    (labels / "action_train.txt").write_text(
        header + "1 subject1/h1/0 23 4 5 4 5\n2 subject1/h1/0 2 7 7 7 7\n"
    )
    (labels / "action_test.txt").write_text(
        "id path start_act end_act start_frame end_frame label\n1 subject1/h1/0 4 4 4 4 36\n"
    )
    rng = np.random.default_rng(0)
    rows = rng.uniform(-0.2, 0.2, (3, 128))
    rows[:, 3:64:3] += 0.6  # Z of the left joints
    rows[:, 67::3] += 0.6  # and of the right joints
    rows[:, 0], rows[:, 64] = [1, 0, 1], [1, 1, 0]  # left_valid, right_valid
    base = root / "subject1" / "h1" / "0" / "cam4"
    (base / "hand_pose").mkdir(parents=True)
    (base / "rgb480_270").mkdir(parents=True)
    for row, frame in zip(rows, (4, 5, 7), strict=True):
        (base / "hand_pose" / f"{frame:06d}.txt").write_text(" ".join(repr(float(v)) for v in row))
        (base / "rgb480_270" / f"{frame:06d}.png").write_bytes(b"")
    return rows


def test_hand_made_folder_columns_flags_and_intrinsics(tmp_path: Path) -> None:
    rows = _hand_made(tmp_path)
    data = load_h2o(tmp_path, "train")
    assert data.labels is H2O  # no action_names.txt: the official 36 names
    first, second = data.sequences
    assert first.key == "subject1/h1/0/000004-000005" and first.num_frames == 2
    assert (first.action, H2O.actions[first.action].name) == (22, "pour milk")
    assert H2O.objects[first.object] == "milk"
    assert (second.action, second.frame_ids.tolist()) == (1, [7])
    left, right = rows[:2, 1:64].reshape(2, 21, 3), rows[:2, 65:].reshape(2, 21, 3)
    assert np.allclose(first.joints3d[:, :21], left) and np.allclose(first.joints3d[:, 21:], right)
    assert first.hand_valid.tolist() == [[True, True], [False, True]]
    assert second.hand_valid.tolist() == [[True, False]]
    k = first.intrinsics
    assert (k[0, 0], k[1, 1]) == pytest.approx((238.747238, 238.594482), abs=1e-4)
    assert (k[0, 2], k[1, 2]) == pytest.approx((238.231456, 137.577778), abs=1e-4)
    u = k[0, 0] * first.joints3d[..., 0] / first.joints3d[..., 2] + k[0, 2]
    assert np.allclose(first.joints2d[..., 0], u, atol=1e-3)
    (test_seq,) = load_h2o(tmp_path, "test").sequences  # label from the last column
    assert (test_seq.action, test_seq.frame_ids.tolist()) == (35, [4])


def test_reads_back_what_the_generator_wrote(synth: tuple[Path, list]) -> None:
    root, written = synth
    labels = synthetic_labels("h2o")
    for split in ("train", "val", "test"):
        data = load_h2o(root, split)
        expected = [w for w in written if w.split == split]
        assert len(data) == len(expected) >= 1
        assert data.labels.actions == labels.actions and data.labels.objects == labels.objects
        for seq, w in zip(data, expected, strict=True):
            end = w.first_frame + w.num_frames - 1
            assert seq.key == f"{w.folder}/{w.first_frame:06d}-{end:06d}"
            truth = generate_sequence("h2o", w.action, w.num_frames, w.seed, w.subject, False)
            assert seq.action == w.action and seq.object == truth.object
            assert seq.joints3d.shape == (w.num_frames, 42, 3)
            assert np.allclose(seq.joints3d, truth.joints3d, atol=1e-6)
            assert np.allclose(seq.joints2d, truth.joints2d, atol=1e-2)
            assert seq.hand_valid.all()
    two_in_one = [w for w in written if w.split == "train"][:2]
    assert two_in_one[0].folder == two_in_one[1].folder  # two segments share a recording
    assert two_in_one[1].first_frame > two_in_one[0].first_frame + two_in_one[0].num_frames


def test_png_frames_are_lossless(synth: tuple[Path, list]) -> None:
    root, written = synth
    w = next(x for x in written if x.split == "val")
    truth = generate_sequence("h2o", w.action, w.num_frames, w.seed, w.subject)
    assert np.array_equal(load_h2o(root, "val").frames(0), truth.images)


def _copy(synth: tuple[Path, list], tmp_path: Path) -> tuple[Path, str, int]:
    root, written = synth
    dst = tmp_path / "h2o"
    shutil.copytree(root, dst)
    w = next(w for w in written if w.split == "train")
    return dst, w.folder, w.first_frame


def test_missing_split_file_names_it(synth: tuple[Path, list], tmp_path: Path) -> None:
    root, _, _ = _copy(synth, tmp_path)
    (root / "action_labels" / "action_val.txt").unlink()
    with pytest.raises(DatasetError, match=r"action_val\.txt: file is missing"):
        load_h2o(root, "val")


def test_missing_image_and_pose_name_them(synth: tuple[Path, list], tmp_path: Path) -> None:
    root, folder, first = _copy(synth, tmp_path)
    (root / folder / "cam4" / "rgb480_270" / f"{first + 1:06d}.png").unlink()
    with pytest.raises(DatasetError, match=rf"{first + 1:06d}\.png: image file is missing"):
        load_h2o(root)
    (root / folder / "cam4" / "hand_pose" / f"{first:06d}.txt").unlink()
    with pytest.raises(DatasetError, match=rf"hand_pose/{first:06d}\.txt: file is missing"):
        load_h2o(root)


def test_bad_pose_values_name_the_file(synth: tuple[Path, list], tmp_path: Path) -> None:
    root, folder, first = _copy(synth, tmp_path)
    path = root / folder / "cam4" / "hand_pose" / f"{first:06d}.txt"
    values = path.read_text().split()
    path.write_text(" ".join(values[:-1]))
    with pytest.raises(DatasetError, match=rf"{first:06d}\.txt: 127 values, expected 128"):
        load_h2o(root)
    path.write_text(" ".join(["nan?", *values[1:]]))
    with pytest.raises(DatasetError, match=rf"{first:06d}\.txt: 'nan\?' is not a number"):
        load_h2o(root)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1 subject1/h1/x 3 10", r"action_train\.txt:2: 4 columns, expected 'id path action"),
        ("5 subject1/h1/x 3 10 12", r"action_train\.txt:2: segment id 5, expected 1"),
        ("1 subject1/h1/x 99 10 12", r"action_train\.txt:2: action label 99, expected 1\.\.24"),
        ("1 subject1/h1/x 3 ten 12", r"action_train\.txt:2: start frame 'ten' is not an int"),
    ],
)
def test_bad_split_line_names_file_and_line(
    synth: tuple[Path, list], tmp_path: Path, line: str, message: str
) -> None:
    root, _, _ = _copy(synth, tmp_path)
    path = root / "action_labels" / "action_train.txt"
    rows = path.read_text().splitlines()
    rows[1] = line
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match=message):
        load_h2o(root)
