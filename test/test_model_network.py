"""The HTT network: sizes from the paper's code, the authors' key layout, attention and masks."""

import math

import numpy as np
import pytest
import torch
from htt_test_utils import SIZES, authors_shapes, authors_state_dict

from htt_ros.model import HTT, HTTConfig
from htt_ros.model.checkpoint import AUTHORS_PE_KEY, authors_to_ours, ours_to_authors
from htt_ros.model.transformer import Encoder

H, W, T = 64, 112, 32  # small images and a short clip keep the tests fast


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    model = HTT(HTTConfig.for_dataset("h2o", clip_length=T)).eval()
    state = authors_to_ours(authors_state_dict("h2o", seed=1))
    model.load_state_dict(state)
    return model


def clip(seed=0, length=T):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (length, 3, H, W), generator=gen).float() / 255 - 0.5


@pytest.mark.parametrize(("dataset", "count"), [("fpha", 25_981_102), ("h2o", 26_011_858)])
def test_parameter_count_matches_the_authors(dataset, count):
    net = HTT(HTTConfig.for_dataset(dataset))
    assert sum(p.numel() for p in net.parameters()) == count


@pytest.mark.parametrize("dataset", ["fpha", "h2o"])
def test_every_authors_key_maps_to_a_parameter_and_back(dataset):
    shapes = authors_shapes(*SIZES[dataset])
    assert len(shapes) == 194
    state = authors_state_dict(dataset)
    net = HTT(HTTConfig.for_dataset(dataset))
    ours = authors_to_ours(state)
    expected = net.state_dict()
    assert set(ours) == set(expected)  # every key but the PE table has a home, none is left
    assert all(ours[k].shape == expected[k].shape for k in ours)
    net.load_state_dict(ours)
    back = ours_to_authors(net.state_dict())
    assert list(back) != [] and set(back) == set(shapes)
    for key, value in state.items():
        if key != AUTHORS_PE_KEY:
            torch.testing.assert_close(back[key], value, rtol=0, atol=0)


def test_recomputed_position_table_is_vaswanis():
    pe = ours_to_authors(HTT(HTTConfig()).state_dict())[AUTHORS_PE_KEY][0].double()
    p, i = 4321, 37  # pe[p, 2i] = sin(p / 10000^(2i/512)), pe[p, 2i+1] = cos(...)
    angle = p / 10000 ** (2 * i / 512)
    assert pe.shape == (5000, 512)
    assert pe[p, 2 * i].item() == pytest.approx(math.sin(angle), abs=2e-3)
    assert pe[p, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=2e-3)
    assert pe[3, 10].item() == pytest.approx(math.sin(3 / 10000 ** (10 / 512)), abs=1e-6)


def test_encoder_layer_matches_multihead_attention_reference():
    # Reference: nn.MultiheadAttention with q = k = LN1(x) + pos, v = LN1(x), pre-norm, final LN.
    torch.manual_seed(0)
    enc = Encoder(64, 8, 128, num_layers=1, max_len=10).eval()
    x, pad = torch.randn(2, 10, 64), torch.zeros(2, 10, dtype=torch.bool)
    pad[1, 6:] = True
    layer = enc.layers[0]
    mha = torch.nn.MultiheadAttention(64, 8, batch_first=True).eval()
    mha.load_state_dict(layer.self_attn.state_dict())
    h = layer.norm1(x)
    q = h + enc.pos[:10]
    y = x + mha(q, q, h, key_padding_mask=pad, need_weights=False)[0]
    y = y + layer.linear2(torch.relu(layer.linear1(layer.norm2(y))))
    torch.testing.assert_close(enc(x, pad), enc.norm(y), rtol=1e-5, atol=1e-5)


def test_padded_frames_do_not_change_valid_outputs(net):
    valid = torch.ones(T, dtype=torch.bool)
    valid[20:] = False
    images = clip(0)
    changed = images.clone()
    changed[20:] = clip(1)[20:]
    K = torch.tensor([[120.0, 0, 56], [0, 120.0, 32], [0, 0, 1]]).expand(T, 3, 3)
    a, b = net.forward_clip(images, K, valid), net.forward_clip(changed, K, valid)
    for key in ("pose_raw", "object_logits", "tokens", "joints3d"):
        torch.testing.assert_close(a[key][:20], b[key][:20], rtol=0, atol=1e-5)
        assert not torch.allclose(a[key][20:], b[key][20:], atol=1e-3)  # padded ones did change
    torch.testing.assert_close(a["action_probs"], b["action_probs"], rtol=0, atol=1e-6)
    all_valid = net.forward_clip(images, K, torch.ones(T, dtype=torch.bool))
    assert not torch.allclose(all_valid["action_probs"], a["action_probs"], atol=1e-6)


def test_first_frame_of_a_window_is_always_a_valid_key(net):
    valid = torch.ones(T, dtype=torch.bool)
    valid[16:] = False  # the whole second window is padding; frame 16 still attends
    images = clip(2)
    out = net.forward_clip(images, torch.eye(3).expand(T, 3, 3) * 100, valid)
    assert all(torch.isfinite(v).all() for v in out.values())
    first, second = images.clone(), images.clone()
    first[16] = clip(3)[16]
    second[17] = clip(3)[17]
    eye = torch.eye(3).expand(T, 3, 3) * 100
    out_first, out_second = (
        net.forward_clip(first, eye, valid),
        net.forward_clip(second, eye, valid),
    )
    # Frame 16 is a key for frames 17..31; frame 17 (padded) is a key for nobody but itself.
    assert not torch.allclose(out_first["tokens"][18:], out["tokens"][18:], atol=1e-4)
    torch.testing.assert_close(out_second["tokens"][18:], out["tokens"][18:], rtol=0, atol=1e-5)
    torch.testing.assert_close(out_second["tokens"][:16], out["tokens"][:16], rtol=0, atol=1e-5)


def test_batched_forward_equals_per_clip(net):
    images = torch.stack([clip(4), clip(5)])
    valid = torch.ones(2, T, dtype=torch.bool)
    valid[1, 25:] = False
    with torch.no_grad():
        batched = net(images, valid)
    K = torch.eye(3).expand(T, 3, 3) * 100
    for b in range(2):
        single = net.forward_clip(images[b], K, valid[b])
        for key in ("pose_raw", "tokens", "action_logits"):
            torch.testing.assert_close(batched[key][b], single[key], rtol=1e-4, atol=1e-4)


def test_forward_clip_decodes_in_the_480x270_frame_whatever_the_input_size(net):
    K = torch.tensor([[150.0, 0, 250], [0, 90.0, 130], [0, 0, 1]]).expand(T, 3, 3)
    out = net.forward_clip(clip(6), K, torch.ones(T, dtype=torch.bool))
    raw = out["pose_raw"].numpy()
    np.testing.assert_allclose(out["joints2d"].numpy(), 100 * raw[..., :2] + [240, 135], 1e-5)
    np.testing.assert_allclose(out["depth"].numpy(), 150 * 1e-4 * raw[..., 2] + 0.4, 1e-5)
    assert out["action_probs"].sum().item() == pytest.approx(1.0, abs=1e-5)
    assert out["object_probs"].shape == (T, 8)


def test_clip_length_is_checked(net):
    with pytest.raises(ValueError, match="multiple of t=16"):
        net.forward_clip(clip(0, 20), torch.eye(3).expand(20, 3, 3), torch.ones(20, dtype=bool))
