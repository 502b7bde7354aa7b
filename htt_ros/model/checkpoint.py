"""Checkpoints: the authors' files (github fylwen/HTT) and htt_ros's own format, loaded safely.

Authors' files are ``torch.save({"epoch", "network": "HTT", "state_dict", "optimizer",
"scheduler"})`` where ``scheduler`` is a pickled ``StepLR`` object (holding the ``Adam`` object).
Plain ``torch.load`` would unpickle, i.e. run, whatever the file names. Here the file is read with
``torch.load(weights_only=True)``, which only rebuilds tensors and plain containers; the optimizer
and scheduler classes are mapped to the inert :class:`PickledObjectStub`, and any other object
makes loading fail unless the caller opts in with ``trust_pickle=True``.

htt_ros checkpoints (:func:`save_checkpoint`) hold only tensors and plain containers: the weights
(our parameter names), the optimizer and scheduler ``state_dict``\\ s, the epoch, the network
config and the label set, so ``weights_only=True`` loads them with no allow-list at all.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from htt_ros import __version__
from htt_ros.errors import UserError
from htt_ros.labels import LABEL_SETS, LabelSet, get_label_set
from htt_ros.model.config import HTTConfig
from htt_ros.model.htt import HTT
from htt_ros.model.transformer import sine_position_encoding
from htt_ros.model_card import sha256_file

FORMAT_NAME = "htt_ros"
FORMAT_VERSION = 1

# Authors' module prefix -> ours. Everything below a prefix keeps its name (torchvision ResNet
# names under the trunk, nn.MultiheadAttention/LayerNorm names in the encoders).
AUTHORS_PREFIXES: tuple[tuple[str, str], ...] = (
    ("meshregnet.base_net.", "trunk."),
    ("transformer_pose.encoder.", "pose_encoder."),
    ("transformer_action.encoder.", "action_encoder."),
    ("image_to_hand_pose.mlp.", "pose_head."),
    ("image_to_olabel_embed.", "object_embed."),
    ("obj_classification.classifier.", "object_classifier."),
    ("hand_pose3d_to_action_input.", "pose_to_token."),
    ("olabel_to_action_input.", "object_to_token."),
    ("concat_to_action_input.", "token_mix."),
    ("action_classification.classifier.", "action_classifier."),
    ("action_token", "action_token"),
)
AUTHORS_PE_KEY = "transformer_pe.pe"  # (1, 5000, 512) sine table; recomputed, never loaded
AUTHORS_PE_LEN = 5000
OPTIONAL_KEYS = frozenset({"trunk.fc.weight", "trunk.fc.bias"})  # the unused ResNet classifier


class CheckpointError(UserError, ValueError):
    """A checkpoint file cannot be used: the message names the file, the problem and the fix."""


class PickledObjectStub:
    """Inert stand-in for the optimizer / scheduler objects pickled in the authors' files.

    Unpickling creates it with ``__new__`` and hands it the pickled attribute dict, which it
    stores as ``state``; it has no behaviour, so nothing in the file can run.
    """

    state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _plain_dict(*_args: Any) -> dict[Any, Any]:
    """Stand-in for ``collections.defaultdict(factory)``: a plain dict, the factory ignored."""
    return {}


# Globals the authors' files reference besides tensors, each mapped to an inert stand-in.
_STAND_INS: list[tuple[Any, str]] = [
    (PickledObjectStub, "torch.optim.lr_scheduler.StepLR"),
    (PickledObjectStub, "torch.optim.adam.Adam"),
    (PickledObjectStub, "torch.optim.sgd.SGD"),
    (_plain_dict, "collections.defaultdict"),
    (dict, "builtins.dict"),
]


def authors_key_to_ours(key: str) -> str:
    """Map one authors' key (``module.`` prefix allowed) to our name; unknown keys unchanged."""
    key = key.removeprefix("module.")
    for theirs, ours in AUTHORS_PREFIXES:
        if key.startswith(theirs):
            return ours + key[len(theirs) :]
    return key


def ours_key_to_authors(key: str) -> str:
    """Inverse of :func:`authors_key_to_ours`."""
    for theirs, ours in AUTHORS_PREFIXES:
        if key.startswith(ours):
            return theirs + key[len(ours) :]
    raise KeyError(f"{key!r} has no authors' name")


def authors_to_ours(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an authors' state dict to our parameter names, dropping ``transformer_pe.pe``."""
    return {
        authors_key_to_ours(k): v
        for k, v in state.items()
        if k.removeprefix("module.") != AUTHORS_PE_KEY
    }


def ours_to_authors(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our state dict in the authors' layout (194 keys), ``transformer_pe.pe`` recomputed."""
    out = {ours_key_to_authors(k): v for k, v in state.items()}
    d_model = state["action_token"].shape[-1]
    out[AUTHORS_PE_KEY] = sine_position_encoding(AUTHORS_PE_LEN, d_model)[None]
    return out


def read_file(path: str | Path, trust_pickle: bool = False) -> Any:
    """``torch.load`` a file onto the CPU without running code from it (unless ``trust_pickle``).

    Raises :class:`CheckpointError` when the file is missing, not a torch file, or pickles an
    object other than the authors' optimizer/scheduler.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; check the path")
    if trust_pickle:
        return torch.load(path, map_location="cpu", weights_only=False)
    try:
        with torch.serialization.safe_globals(_STAND_INS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        unsafe = _unsafe_globals(path)
        if unsafe is None:
            raise CheckpointError(f"{path} is not a PyTorch checkpoint file ({err})") from None
        raise CheckpointError(
            f"{path} pickles objects of {unsafe}, which could run code when loaded, so it was "
            f"not loaded. Only if you trust where the file comes from, load it with "
            f"trust_pickle=True (htt-export --trust-pickle)"
        ) from None
    except (
        RuntimeError,
        EOFError,
        IndexError,
        KeyError,
        TypeError,
        ValueError,
        zipfile.BadZipFile,
    ) as err:
        raise CheckpointError(f"{path} is not a PyTorch checkpoint file ({err})") from None


def _unsafe_globals(path: Path) -> list[str] | None:
    """Globals a zip-format torch file needs beyond ours; None when it is no such file."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except (RuntimeError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError):
        return None
    return sorted(set(names) - {name for _, name in _STAND_INS})


@dataclass
class LoadedCheckpoint:
    """A checkpoint read and checked against its data set, ready to build the network.

    ``state_dict`` uses our parameter names. ``kind`` is ``authors`` or ``htt_ros``.
    ``optimizer``/``scheduler`` are state dicts (htt_ros files only; None otherwise).
    """

    path: Path
    sha256: str
    kind: str
    config: HTTConfig
    labels: LabelSet | None
    state_dict: dict[str, torch.Tensor]
    epoch: int | None = None
    optimizer: dict[str, Any] | None = None
    scheduler: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def build_model(self) -> HTT:
        """The network with these weights, in eval mode; raises on key or shape mismatches."""
        net = HTT(self.config, labels=self.labels)
        check_state_dict(net.state_dict(), self.state_dict, self.path, self.kind)
        net.load_state_dict(self.state_dict, strict=False)  # only OPTIONAL_KEYS may be absent
        return net.eval()


def check_state_dict(
    expected: Mapping[str, torch.Tensor],
    state: Mapping[str, torch.Tensor],
    path: str | Path,
    kind: str = "htt_ros",
) -> None:
    """Raise :class:`CheckpointError` listing missing, unexpected and wrongly shaped keys."""

    def name(key: str) -> str:
        return f"{ours_key_to_authors(key)} (ours: {key})" if kind == "authors" else key

    missing = [name(k) for k in expected if k not in state and k not in OPTIONAL_KEYS]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{name(k)}: file {tuple(v.shape)}, network {tuple(expected[k].shape)}"
        for k, v in state.items()
        if k in expected and tuple(v.shape) != tuple(expected[k].shape)
    ]
    problems = [
        f"{label} ({len(keys)}): {keys[:8]}{' ...' if len(keys) > 8 else ''}"
        for label, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("wrong shapes", wrong),
        )
        if keys
    ]
    if problems:
        raise CheckpointError(
            f"{path} does not fit the HTT network ({kind} layout): "
            + "; ".join(problems)
            + ". Use a checkpoint of the authors' HTT (github fylwen/HTT) or one written by "
            "htt_ros's save_checkpoint, unmodified"
        )


def _sizes(state: Mapping[str, torch.Tensor], path: Path) -> tuple[int, int, int]:
    """(joints, objects, actions) from the head shapes."""
    heads = ("pose_head.4.weight", "object_classifier.weight", "action_classifier.weight")
    missing = [h for h in heads if h not in state]
    if missing:
        raise CheckpointError(
            f"{path} has no HTT heads {missing}: it is not an HTT checkpoint, or a damaged one"
        )
    joints3, objects, actions = (state[h].shape[0] for h in heads)
    return joints3 // 3, objects, actions


def _dataset_for(sizes: tuple[int, int, int]) -> str | None:
    for name, labels in LABEL_SETS.items():
        if sizes == (labels.num_joints, len(labels.objects), len(labels.actions)):
            return name
    return None


def _check_dataset(sizes: tuple[int, int, int], dataset: str, path: Path) -> None:
    labels = get_label_set(dataset)
    wanted = (labels.num_joints, len(labels.objects), len(labels.actions))
    if sizes != wanted:
        found = _dataset_for(sizes)
        fix = f"pass dataset={found!r} (--dataset {found})" if found else "pass no dataset"
        raise CheckpointError(
            f"{path} is a model with {sizes[0]} joints, {sizes[1]} objects and {sizes[2]} "
            f"actions ({found or 'not a built-in data set'}), but dataset={dataset!r} needs "
            f"{wanted[0]}/{wanted[1]}/{wanted[2]}; {fix} or give the {dataset} checkpoint"
        )


def load_checkpoint(
    path: str | Path, dataset: str | None = None, trust_pickle: bool = False
) -> LoadedCheckpoint:
    """Read an authors' or htt_ros checkpoint and check it against ``dataset`` (if given).

    Authors' files must be FPHA (21 joints, 26 objects, 45 actions) or H2O (42/8/36); the data set
    is inferred from the head shapes when ``dataset`` is None. Raises :class:`CheckpointError`.
    """
    path = Path(path)
    obj = read_file(path, trust_pickle=trust_pickle)
    if not isinstance(obj, dict):
        raise CheckpointError(
            f"{path} holds a {type(obj).__name__}, not a checkpoint dict; give an authors' HTT "
            f"checkpoint or one saved by htt_ros"
        )
    if obj.get("format") == FORMAT_NAME:
        return _from_ours(obj, path, dataset)
    state = obj.get("state_dict", obj)
    if (
        not isinstance(state, dict)
        or not state
        or not all(isinstance(v, torch.Tensor) for v in state.values())
    ):
        raise CheckpointError(
            f"{path} is a dict with keys {sorted(map(str, obj))[:8]} but no state dict of "
            f"tensors; give an authors' HTT checkpoint or one saved by htt_ros"
        )
    ours = authors_to_ours(state)
    sizes = _sizes(ours, path)
    if dataset is not None:
        _check_dataset(sizes, dataset, path)
    found = _dataset_for(sizes)
    if found is None:
        raise CheckpointError(
            f"{path}: {sizes[0]} joints, {sizes[1]} objects, {sizes[2]} actions match neither "
            f"FPHA (21/26/45) nor H2O (42/8/36); authors' checkpoints must be one of these"
        )
    epoch = obj.get("epoch") if "state_dict" in obj else None
    return LoadedCheckpoint(
        path=path,
        sha256=sha256_file(path),
        kind="authors",
        config=HTTConfig.for_dataset(found),
        labels=get_label_set(found),
        state_dict=ours,
        epoch=int(epoch) if isinstance(epoch, int) else None,
    )


def _from_ours(obj: dict[str, Any], path: Path, dataset: str | None) -> LoadedCheckpoint:
    if obj.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: htt_ros checkpoint format_version {obj.get('format_version')!r}, this "
            f"htt_ros reads {FORMAT_VERSION}; load it with the htt_ros version that wrote it"
        )
    try:
        config = HTTConfig.from_dict(obj["config"])
        labels = LabelSet.from_dict(obj["labels"]) if obj.get("labels") else None
        state = dict(obj["model"])
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: damaged htt_ros checkpoint ({err!r})") from None
    sizes = (config.num_joints, config.num_objects, config.num_actions)
    if dataset is not None:
        _check_dataset(sizes, dataset, path)
    found = _dataset_for(sizes)
    if labels is None and found is not None:
        labels = get_label_set(found)
    return LoadedCheckpoint(
        path=path,
        sha256=sha256_file(path),
        kind="htt_ros",
        config=config,
        labels=labels,
        state_dict=state,
        epoch=obj.get("epoch"),
        optimizer=obj.get("optimizer"),
        scheduler=obj.get("lr_scheduler"),
        extra=dict(obj.get("extra") or {}),
    )


def save_checkpoint(
    path: str | Path,
    model: HTT,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    epoch: int = 0,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write an htt_ros checkpoint atomically (temporary file, then rename).

    ``extra`` (e.g. training args, git SHA) must hold plain values only (str, int, float, bool,
    None, lists, dicts) so the file stays loadable with ``weights_only=True``.
    """
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "htt_ros_version": __version__,
        "config": model.config.to_dict(),
        "labels": model.labels.to_dict() if model.labels is not None else None,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "lr_scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": int(epoch),
        "extra": extra or {},
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_network(path: str | Path, dataset: str | None = None, trust_pickle: bool = False) -> HTT:
    """Load an authors' or an htt_ros checkpoint; returns the network in eval mode.

    ``dataset`` (``fpha``/``h2o``) is inferred from the head shapes when None and checked against
    them otherwise. ``trust_pickle=True`` allows arbitrary pickled objects (only for files you
    trust); by default loading never runs code from the file. Raises :class:`CheckpointError`.
    """
    return load_checkpoint(path, dataset=dataset, trust_pickle=trust_pickle).build_model()
