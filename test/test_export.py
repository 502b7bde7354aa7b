"""Export: both data set configurations, ONNX Runtime streaming parity, the model card."""

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from htt_test_utils import authors_state_dict, write_authors_checkpoint

from htt_ros.geometry import decode_25d
from htt_ros.labels import FPHA
from htt_ros.model import HTT, HTTConfig, load_network, save_checkpoint
from htt_ros.model.checkpoint import authors_to_ours
from htt_ros.model_card import ModelCard, ModelCardError
from htt_ros.tools.htt_export import main

pytestmark = pytest.mark.slow  # ONNX exports take seconds each
W, H = 112, 64  # small network input keeps the suite fast


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """dataset -> (checkpoint path, model folder). FPHA from our format with T=32, H2O from an
    authors'-layout file (T=128)."""
    root = tmp_path_factory.mktemp("export")
    fpha = HTT(HTTConfig.for_dataset("fpha", clip_length=32), labels=FPHA)
    fpha.load_state_dict(authors_to_ours(authors_state_dict("fpha", seed=5)))
    save_checkpoint(root / "fpha.pth", fpha, epoch=3)
    write_authors_checkpoint(root / "h2o.pth", authors_state_dict("h2o", seed=6))
    for name in ("fpha", "h2o"):
        args = [str(root / f"{name}.pth"), str(root / name), "--input-size", str(W), str(H)]
        assert main([*args, "--dataset", name]) == 0
    return {name: (root / f"{name}.pth", root / name) for name in ("fpha", "h2o")}


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def stream(folder, card, frames_u8, intrinsics, valid):
    """Run the model folder as the robot does: each frame through pose_step once (features
    cached), P outputs taken at the end of each aligned t-window, then action.onnx."""
    pose = ort.InferenceSession(str(folder / "pose_step.onnx"), providers=["CPUExecutionProvider"])
    action = ort.InferenceSession(str(folder / "action.onnx"), providers=["CPUExecutionProvider"])
    t, length = card.window, len(frames_u8)
    cache = np.zeros((length, 512), np.float32)
    out = {"pose_raw": [], "object_logits": [], "tokens": []}
    for i in range(length):
        start = i - i % t  # first frame of this frame's window
        prev = np.zeros((t - 1, 512), np.float32)
        n_prev = i - start
        prev[t - 1 - n_prev :] = cache[start:i]
        window_valid = np.zeros(t, bool)
        window_valid[t - 1 - n_prev :] = valid[start : i + 1]
        feature, pose_raw, object_logits, tokens = pose.run(
            None, {"image": frames_u8[i : i + 1], "prev_features": prev, "valid": window_valid}
        )
        cache[i] = feature[0]
        if i % t == t - 1:
            for key, value in zip(out, (pose_raw, object_logits, tokens), strict=True):
                out[key].append(value)
    out = {k: np.concatenate(v) for k, v in out.items()}
    (action_logits,) = action.run(None, {"tokens": out["tokens"], "valid": valid})
    joints2d, depth, joints3d = decode_25d(out["pose_raw"], intrinsics)
    return out | {
        "joints2d": joints2d,
        "depth": depth,
        "joints3d": joints3d,
        "object_probs": softmax(out["object_logits"]),
        "action_probs": softmax(action_logits),
    }


@pytest.mark.parametrize("dataset", ["fpha", "h2o"])
@pytest.mark.parametrize("n_valid", [None, 21])
def test_onnx_streaming_matches_forward_clip(exported, dataset, n_valid):
    checkpoint, folder = exported[dataset]
    card = ModelCard.load(folder)
    T = card.clip_length
    rng = np.random.default_rng(7)
    frames = rng.integers(0, 256, (T, H, W, 3), dtype=np.uint8)
    valid = np.ones(T, bool)
    if n_valid is not None:  # the authors' padding: last valid frame repeated, valid = 0
        frames[n_valid:] = frames[n_valid - 1]
        valid[n_valid:] = False
    K = np.tile(np.array([[90.0, 0, 54], [0, 91.0, 33], [0, 0, 1]], np.float32), (T, 1, 1))
    ours = stream(folder, card, frames, K, valid)
    net = load_network(checkpoint)
    images = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255 - 0.5
    ref = net.forward_clip(images, torch.from_numpy(K), torch.from_numpy(valid))
    for key in ("joints2d", "joints3d", "depth", "object_probs", "action_probs", "tokens"):
        np.testing.assert_allclose(ours[key], ref[key].numpy(), rtol=0, atol=1e-4, err_msg=key)
    assert ref["action_probs"].max() < 0.999  # a saturated softmax would hide differences


@pytest.mark.parametrize("dataset", ["fpha", "h2o"])
def test_model_card_records_sizes_checksums_and_provenance(exported, dataset):
    checkpoint, folder = exported[dataset]
    card = ModelCard.load(folder)  # verifies the .onnx checksums
    data = json.loads((folder / "model.json").read_text())
    sizes = {"fpha": (21, 26, 45, 32, ("right",)), "h2o": (42, 8, 36, 128, ("left", "right"))}
    joints, objects, actions, T, hands = sizes[dataset]
    assert (card.num_joints, len(card.labels.objects), len(card.labels.actions)) == (
        joints,
        objects,
        actions,
    )
    assert (card.window, card.clip_length, card.hands, card.dataset) == (16, T, hands, dataset)
    assert (card.input_width, card.input_height, card.frame_rate_hz) == (W, H, 15.0)
    assert card.decoding.frame == (480, 270) and card.decoding.off_z == 0.4
    # H2O's 480x270 images were made by cv2's bilinear resize, FPHA's without aliasing
    assert card.shrink == {"fpha": "area", "h2o": "bilinear"}[dataset]
    assert len(card.joint_names) == joints and card.joint_names[0].endswith("wrist")
    assert max(max(b) for b in card.bones) == joints - 1
    prov = card.provenance
    assert prov["checkpoint"] == checkpoint.name
    assert prov["checkpoint_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert prov["checkpoint_kind"] == {"fpha": "htt_ros", "h2o": "authors"}[dataset]
    assert prov["torch_version"] == torch.__version__
    package_xml = Path(__file__).parents[1] / "package.xml"
    assert f"<version>{prov['htt_ros_version']}</version>" in package_xml.read_text()
    for name, graph in card.graphs.items():
        path = folder / graph.file
        assert graph.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert data["graphs"][name]["sha256"] == graph.sha256
        model = onnx.load(str(path))
        assert model.opset_import[0].version >= 17
        io = [
            (i.name, [d.dim_value for d in i.type.tensor_type.shape.dim])
            for i in model.graph.input
        ]
        assert io == [(s.name, list(s.shape)) for s in graph.inputs]
    pose = onnx.load(str(folder / "pose_step.onnx")).graph
    first = next(n for n in pose.node if "image" in n.input)
    assert first.op_type == "Cast"  # TensorRT accepts uint8 only straight into a Cast
    assert pose.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    assert pose.input[2].type.tensor_type.elem_type == onnx.TensorProto.BOOL
    assert [s.shape for s in card.graphs["pose_step"].outputs] == [
        (1, 512),
        (16, joints, 3),
        (16, objects),
        (16, 512),
    ]


def test_tampered_or_broken_folder_is_refused(exported, tmp_path):
    _, folder = exported["h2o"]
    for name in ("model.json", "action.onnx", "pose_step.onnx"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    with open(tmp_path / "action.onnx", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelCardError, match=r"does not match model\.json"):
        ModelCard.load(tmp_path)
    data = json.loads((folder / "model.json").read_text())
    del data["decoding"]
    (tmp_path / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelCardError, match="missing field 'decoding'"):
        ModelCard.load(tmp_path)
    data = json.loads((folder / "model.json").read_text()) | {"shrink": "nearest"}
    (tmp_path / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelCardError, match="shrink 'nearest' is not one of area, bilinear"):
        ModelCard.load(tmp_path)
    data |= {"format_version": 2}  # a folder exported before pose_step placed the new frame
    (tmp_path / "model.json").write_text(json.dumps(data))
    with pytest.raises(ModelCardError, match=r"format_version 2.*re-export"):
        ModelCard.load(tmp_path)
    with pytest.raises(ModelCardError, match="not a model folder"):
        ModelCard.load(tmp_path / "nothing")


def test_cli_reports_a_wrong_dataset(exported, tmp_path, capsys):
    checkpoint, _ = exported["h2o"]
    assert main([str(checkpoint), str(tmp_path / "out"), "--dataset", "fpha"]) == 2
    assert "--dataset h2o" in capsys.readouterr().err


def test_card_frame_rate_and_code_revision_come_from_the_checkpoint(tmp_path):
    """A model trained on every frame (spacing 1) of a 30 Hz camera is a 30 Hz model, and the
    card names the code revision that trained it."""
    net = HTT(HTTConfig.for_dataset("fpha", clip_length=16), labels=FPHA)
    extra = {"config": {"data": {"spacing": 1}}, "git": "0123abcd"}
    save_checkpoint(tmp_path / "every_frame.pth", net, extra=extra)
    args = [str(tmp_path / "every_frame.pth"), str(tmp_path / "model"), "--input-size", "64", "36"]
    assert main(args) == 0
    card = ModelCard.load(tmp_path / "model")
    assert card.frame_rate_hz == 30.0
    assert card.provenance["checkpoint_code_revision"] == "0123abcd"
