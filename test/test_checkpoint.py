"""Checkpoint loading: the authors' layout, safety against pickled code, errors, our format."""

import random

import pytest
import torch
from htt_test_utils import authors_state_dict, write_authors_checkpoint

from htt_ros.model import (
    HTT,
    CheckpointError,
    HTTConfig,
    load_checkpoint,
    load_network,
    save_checkpoint,
)
from htt_ros.model.checkpoint import ours_key_to_authors
from htt_ros.model.pretrained import PretrainedWeightsMissing, build_htt, cached_weights_path


def _write_marker(path):
    """Would run at unpickling time if the loader executed code from the file."""
    with open(path, "w") as f:
        f.write("code from the checkpoint ran")
    return 0


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (_write_marker, (self.marker,))


@pytest.fixture(scope="module")
def h2o_state():
    return authors_state_dict("h2o", seed=3)


@pytest.fixture(scope="module")
def h2o_file(tmp_path_factory, h2o_state):
    return write_authors_checkpoint(tmp_path_factory.mktemp("ckpt") / "h2o.pth", h2o_state)


def test_authors_file_with_pickled_scheduler_loads_safely(h2o_file, h2o_state):
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(h2o_file)
    assert "torch.optim.lr_scheduler.StepLR" in unsafe  # the file really pickles objects
    ckpt = load_checkpoint(h2o_file)
    assert (ckpt.kind, ckpt.labels.name, ckpt.epoch) == ("authors", "h2o", 45)
    net = load_network(h2o_file)
    assert not net.training and net.config == HTTConfig.for_dataset("h2o")
    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, h2o_state[ours_key_to_authors(key)], rtol=0, atol=0)


def test_module_prefix_is_stripped(tmp_path, h2o_state):
    path = write_authors_checkpoint(
        tmp_path / "dp.pth", {f"module.{k}": v for k, v in h2o_state.items()}
    )
    net = load_network(path, dataset="h2o")
    torch.testing.assert_close(net.action_token, h2o_state["action_token"])


def test_pickled_code_never_runs(tmp_path, h2o_state):
    marker = tmp_path / "marker.txt"
    path = write_authors_checkpoint(tmp_path / "evil.pth", h2o_state, payload=Payload(marker))
    with pytest.raises(CheckpointError, match="trust_pickle=True") as err:
        load_network(path)
    assert "_write_marker" in str(err.value) and str(path) in str(err.value)
    assert not marker.exists()
    # Hidden inside the scheduler object (mapped to the inert stand-in): still refused.
    params = [torch.nn.Parameter(torch.zeros(2))]
    scheduler = torch.optim.lr_scheduler.StepLR(torch.optim.Adam(params), 15)
    scheduler.hook = Payload(marker)
    torch.save({"epoch": 1, "state_dict": h2o_state, "scheduler": scheduler}, tmp_path / "e2.pth")
    with pytest.raises(CheckpointError, match="trust_pickle"):
        load_checkpoint(tmp_path / "e2.pth")
    assert not marker.exists()


def test_trust_pickle_opt_in(h2o_file):
    assert load_checkpoint(h2o_file, trust_pickle=True).labels.name == "h2o"


def test_wrong_dataset_names_both(h2o_file):
    with pytest.raises(CheckpointError, match=r"42 joints, 8 objects and 36 actions \(h2o\)") as e:
        load_checkpoint(h2o_file, dataset="fpha")
    assert "--dataset h2o" in str(e.value) and "21/26/45" in str(e.value)


def test_missing_unexpected_and_wrong_shapes(tmp_path, h2o_state):
    state = dict(h2o_state)
    del state["transformer_pose.encoder.layers.1.linear2.bias"]
    state["transformer_pose.encoder.layers.2.linear1.weight"] = torch.zeros(3)
    state["concat_to_action_input.weight"] = torch.zeros(512, 1024)
    path = write_authors_checkpoint(tmp_path / "bad.pth", state)
    with pytest.raises(CheckpointError) as err:
        load_network(path)
    msg = str(err.value)
    assert "missing keys (1)" in msg and "transformer_pose.encoder.layers.1.linear2.bias" in msg
    assert "unexpected keys (1)" in msg and "layers.2.linear1.weight" in msg
    assert "concat_to_action_input.weight (ours: token_mix.weight): file (512, 1024)" in msg


def test_fc_and_position_table_are_optional(tmp_path, h2o_state):
    state = {k: v for k, v in h2o_state.items() if ".fc." not in k and "transformer_pe" not in k}
    net = load_network(write_authors_checkpoint(tmp_path / "nofc.pth", state))
    torch.testing.assert_close(net.action_token, h2o_state["action_token"])


def test_unknown_head_sizes(tmp_path, h2o_state):
    state = dict(h2o_state)
    state["action_classification.classifier.weight"] = torch.zeros(10, 512)
    with pytest.raises(CheckpointError, match="match neither FPHA"):
        load_checkpoint(write_authors_checkpoint(tmp_path / "x.pth", state))


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"hello, not a checkpoint", "not a PyTorch checkpoint"),
        *((random.Random(seed).randbytes(4096), "not a PyTorch checkpoint") for seed in range(20)),
    ],
)
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_not_a_checkpoint(tmp_path, content, match):
    path = tmp_path / "junk.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(path)


def test_not_a_checkpoint_dict(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "t.pth")
    with pytest.raises(CheckpointError, match="holds a Tensor"):
        load_checkpoint(tmp_path / "t.pth")
    torch.save({"weights": [1, 2]}, tmp_path / "d.pth")
    with pytest.raises(CheckpointError, match="no state dict"):
        load_checkpoint(tmp_path / "d.pth")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pth")


def test_our_format_round_trip(tmp_path):
    torch.manual_seed(1)
    net = HTT(HTTConfig.for_dataset("fpha", clip_length=32), labels=None)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=15, gamma=0.5)
    net.pose_head[4].bias.sum().backward()
    optimizer.step()
    scheduler.step()
    path = tmp_path / "ours.pth"
    save_checkpoint(path, net, optimizer=optimizer, scheduler=scheduler, epoch=7, extra={"a": 1})
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    torch.load(path, weights_only=True)  # plain tensors and containers only
    ckpt = load_checkpoint(path, dataset="fpha")
    assert (ckpt.kind, ckpt.epoch, ckpt.extra, ckpt.labels.name) == (
        "htt_ros",
        7,
        {"a": 1},
        "fpha",
    )
    loaded = ckpt.build_model()
    assert loaded.config.clip_length == 32
    for key, value in net.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)
    fresh = torch.optim.Adam(loaded.parameters(), lr=1.0)
    fresh.load_state_dict(ckpt.optimizer)
    assert fresh.param_groups[0]["lr"] == pytest.approx(3e-5)
    assert ckpt.scheduler["last_epoch"] == 1
    with pytest.raises(CheckpointError, match="dataset='h2o' needs 42/8/36"):
        load_checkpoint(path, dataset="h2o")


def test_pretrained_weights_only_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(PretrainedWeightsMissing, match="--from-scratch") as err:
        build_htt(HTTConfig())
    assert str(cached_weights_path()) in str(err.value)
    assert str(tmp_path) in str(cached_weights_path())
    state = {
        k: torch.full_like(v, 0.25)
        for k, v in build_htt(HTTConfig(), pretrained=False).trunk.state_dict().items()
    }
    cached_weights_path().parent.mkdir(parents=True)
    torch.save(state, cached_weights_path())
    net = build_htt(HTTConfig())
    torch.testing.assert_close(net.trunk.conv1.weight, state["conv1.weight"])
