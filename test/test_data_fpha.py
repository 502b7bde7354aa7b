"""The FPHA reader: hand-made files with known numbers, synthetic folders and broken folders."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from htt_ros.data import DatasetError, load_fpha
from htt_ros.data.synthetic import generate_sequence, synthetic_labels, write_dataset

# FPHA's published colour camera extrinsic (mm) and the 480x270 intrinsics (full resolution / 4).
EXTR = np.array(
    [
        [0.999988496304, -0.00468848412856, 0.000982563360594, 25.7],
        [0.00469115935266, 0.999985218048, -0.00273845880292, 1.22],
        [-0.000969709653873, 0.00274303671904, 0.99999576807, 3.902],
    ]
)


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("fpha")
    written = write_dataset(root, "fpha", seed=3, sequences=5, frames=6, progress=False)
    return root, written


def _hand_made(root: Path, frames: int = 2) -> np.ndarray:
    """A one-video FPHA folder; returns the native-order world joints [F, 21, 3] in mm."""
    (root / "Subjects_info").mkdir(parents=True)
    (root / "Subjects_info" / "Subject_1_info.txt").write_text(
        f"Subject_1\nheader\nheader\nopen_milk 1 {frames}\n"
    )
    (root / "data_split_action_recognition.txt").write_text(
        "Training 1\nSubject_1/open_milk/1 1\nTest 0\n"
    )
    (root / "action_object_info.txt").write_text(
        "id action object pose scenario\n1 drink_mug mug x kitchen\n2 open_milk milk x kitchen\n"
        "3 close_milk milk x kitchen\n"
    )
    world = np.arange(frames * 63, dtype=np.float64).reshape(frames, 21, 3)
    world[..., 2] += 400.0  # in front of the camera
    pose = root / "Hand_pose_annotation_v1" / "Subject_1" / "open_milk" / "1"
    pose.mkdir(parents=True)
    rows = [f"{f} " + " ".join(f"{v:.3f}" for v in world[f].ravel()) for f in range(frames)]
    (pose / "skeleton.txt").write_text("\n".join(rows) + "\n")
    color = root / "Video_files_480" / "Subject_1" / "open_milk" / "1" / "color"
    color.mkdir(parents=True)
    for f in range(frames):
        (color / f"color_{f:04d}.jpeg").write_bytes(b"")  # existence is all the reader checks
    return world


def test_hand_made_folder_units_joint_order_and_labels(tmp_path: Path) -> None:
    world = _hand_made(tmp_path)
    data = load_fpha(tmp_path, "train")
    (seq,) = data.sequences
    cam = (world @ EXTR[:, :3].T + EXTR[:, 3]) / 1000.0  # native order, metres
    # HTT: wrist, then MCP, PIP, DIP, TIP per finger; native: wrist, the 5 MCPs, then the rest.
    assert np.allclose(seq.joints3d[:, 0], cam[:, 0], atol=1e-6)
    assert np.allclose(seq.joints3d[:, 1], cam[:, 1], atol=1e-6)  # thumb MCP
    assert np.allclose(seq.joints3d[:, 2], cam[:, 6], atol=1e-6)  # thumb PIP
    assert np.allclose(seq.joints3d[:, 4], cam[:, 8], atol=1e-6)  # thumb TIP
    assert np.allclose(seq.joints3d[:, 5], cam[:, 2], atol=1e-6)  # index MCP
    assert np.allclose(seq.joints3d[:, 20], cam[:, 20], atol=1e-6)  # little TIP
    assert np.allclose(seq.joints3d[:, 17], cam[:, 5], atol=1e-6)  # little MCP
    k = seq.intrinsics
    assert k[0, 0] == pytest.approx(348.93726, abs=1e-3)
    assert k[1, 1] == pytest.approx(348.93732, abs=1e-3)
    assert (k[0, 2], k[1, 2]) == pytest.approx((233.933136, 135.170258), abs=1e-4)
    u = 1395.749023 * seq.joints3d[..., 0] / seq.joints3d[..., 2] + 935.732544
    assert np.allclose(seq.joints2d[..., 0], u / 4, atol=1e-3)
    assert (seq.action, seq.object) == (1, 1)  # file index 2 -> 1; milk is the 2nd object
    assert data.labels.objects == ("mug", "milk")
    assert [a.verb for a in data.labels.actions] == ["drink", "open", "close"]
    assert seq.key == "Subject_1/open_milk/1" and seq.subject == "Subject_1"
    assert seq.image_paths[1].name == "color_0001.jpeg"
    assert load_fpha(tmp_path, "test").sequences == []


def test_reads_back_what_the_generator_wrote(synth: tuple[Path, list]) -> None:
    root, written = synth
    labels = synthetic_labels("fpha")
    for split in ("train", "test"):
        data = load_fpha(root, split)
        expected = [w for w in written if w.split == split]
        assert [s.key for s in data] == [w.folder for w in expected]
        assert data.labels.actions == labels.actions and data.labels.objects == labels.objects
        for seq, w in zip(data, expected, strict=True):
            truth = generate_sequence("fpha", w.action, w.num_frames, w.seed, w.subject, False)
            assert seq.action == w.action and seq.object == truth.object
            assert seq.joints3d.shape == (w.num_frames, 21, 3)
            assert np.allclose(seq.joints3d, truth.joints3d, atol=2e-6)  # written in 0.1 um
            assert np.allclose(seq.joints2d, truth.joints2d, atol=1e-2)
            assert np.allclose(seq.intrinsics, truth.intrinsics)
    assert {w.split for w in written} == {"train", "test"}


def test_frames_decode_and_cache(synth: tuple[Path, list], tmp_path: Path) -> None:
    root, written = synth
    data = load_fpha(root, "train", cache_dir=None)
    w = next(x for x in written if x.split == "train")
    truth = generate_sequence("fpha", w.action, w.num_frames, w.seed, w.subject)
    frames = data.frames(0)
    assert frames.shape == (w.num_frames, 270, 480, 3) and frames.dtype == np.uint8
    assert np.abs(frames.astype(int) - truth.images).mean() < 4.0  # JPEG, quality 92
    copy, folder = _copy(synth, tmp_path)
    cached = load_fpha(copy, "train")
    assert cached.cache_dir is None
    cached.build_cache(progress=False)  # default: <root>/htt_cache, found by later loads
    image = copy / "Video_files_480" / folder / "color" / "color_0002.jpeg"
    image.write_bytes(b"not a jpeg")  # only the cache can still give frame 2
    reopened = load_fpha(copy, "train")
    assert reopened.cache_dir == copy / "htt_cache"
    assert np.array_equal(reopened.frames(0, [2, 0, 2]), frames[[2, 0, 2]])
    with pytest.raises(DatasetError, match=r"color_0002\.jpeg: cannot decode"):
        load_fpha(copy, "train", cache_dir=tmp_path / "empty").frames(0)


def _copy(synth: tuple[Path, list], tmp_path: Path) -> tuple[Path, str]:
    root, written = synth
    dst = tmp_path / "fpha"
    shutil.copytree(root, dst)
    return dst, next(w for w in written if w.split == "train").folder


def test_missing_split_file_names_it(synth: tuple[Path, list], tmp_path: Path) -> None:
    root, _ = _copy(synth, tmp_path)
    (root / "data_split_action_recognition.txt").unlink()
    with pytest.raises(DatasetError, match=r"data_split_action_recognition\.txt: file is missing"):
        load_fpha(root)


def test_missing_image_names_it(synth: tuple[Path, list], tmp_path: Path) -> None:
    root, folder = _copy(synth, tmp_path)
    (root / "Video_files_480" / folder / "color" / "color_0003.jpeg").unlink()
    with pytest.raises(DatasetError, match=r"color_0003\.jpeg: image file is missing"):
        load_fpha(root)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda row: row.replace(row.split()[5], "abc", 1), r"skeleton\.txt:3: 'abc' is not a"),
        (lambda row: row + " 1.0", r"skeleton\.txt:3: 65 columns, expected 64"),
        (lambda row: "7" + row[1:], r"skeleton\.txt:3: frame index 7, expected 2"),
    ],
)
def test_bad_skeleton_row_names_file_and_line(
    synth: tuple[Path, list], tmp_path: Path, edit, message: str
) -> None:
    root, folder = _copy(synth, tmp_path)
    path = root / "Hand_pose_annotation_v1" / folder / "skeleton.txt"
    rows = path.read_text().splitlines()
    rows[2] = edit(rows[2])
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match=message):
        load_fpha(root)


def test_missing_subject_info_and_short_skeleton(synth: tuple[Path, list], tmp_path: Path) -> None:
    root, folder = _copy(synth, tmp_path)
    skeleton = root / "Hand_pose_annotation_v1" / folder / "skeleton.txt"
    skeleton.write_text("\n".join(skeleton.read_text().splitlines()[:2]) + "\n")
    with pytest.raises(DatasetError, match=r"skeleton\.txt: 2 rows, but Subjects_info gives"):
        load_fpha(root)
    for info in (root / "Subjects_info").iterdir():
        info.unlink()
    with pytest.raises(DatasetError, match=r"Subject_1_info\.txt: file is missing"):
        load_fpha(root)


def test_bad_split_line_and_unknown_split(synth: tuple[Path, list], tmp_path: Path) -> None:
    root, _ = _copy(synth, tmp_path)
    path = root / "data_split_action_recognition.txt"
    rows = path.read_text().splitlines()
    rows[1] = "Subject_1/lift_ball 0"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match=r"action_recognition\.txt:2: .*expected 'Subject_k"):
        load_fpha(root)
    with pytest.raises(ValueError, match="unknown FPHA split 'val'"):
        load_fpha(root, "val")
