"""The fp16 twin of an ONNX graph, which is what fp16 means on TensorRT 11.

TensorRT 11 removed ``BuilderFlag.FP16``: every network is strongly typed and runs in the dtypes
its graph declares. ``pose_step.onnx`` gets a ``pose_step.fp16.onnx`` next to it, converted with
onnxconverter-common's ``convert_float_to_float16`` keeping the graph's I/O types (so the runner's
buffers do not change) and keeping LayerNormalization and Softmax in fp32, as NVIDIA advises for
transformers. The twin records the sha256 of the graph it was made from, and is made again when
that graph changes. A twin made elsewhere (e.g. with ModelOpt AutoCast) carries no such record and
is used as it is.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from htt_ros.engines.base import EngineError
from htt_ros.engines.trt_cache import write_atomic

LOG = logging.getLogger("htt_ros.engines.tensorrt")

SOURCE_KEY = "htt_ros.fp16_source_sha256"
FP32_OPS = ("LayerNormalization", "Softmax")


def fp16_path(onnx_path: Path) -> Path:
    """``pose_step.onnx`` -> ``pose_step.fp16.onnx``."""
    return onnx_path.with_name(f"{onnx_path.stem}.fp16.onnx")


def ensure_fp16_onnx(onnx_path: Path, source_sha256: str) -> Path:
    """Path of the fp16 twin of ``onnx_path`` (sha256 ``source_sha256``), made if missing or
    made from another version of ``onnx_path``."""
    target = fp16_path(onnx_path)
    if target.exists():
        try:
            made_from = _recorded_source(target)
        except ImportError:
            LOG.info(
                "using %s unchecked (pip install onnx to check it against %s)",
                target,
                onnx_path.name,
            )
            return target
        if made_from == source_sha256:
            return target
        if made_from is None:
            LOG.info(
                "using %s as given (not made by htt_ros, not checked against %s)",
                target,
                onnx_path.name,
            )
            return target
        LOG.warning("%s was made from another %s; converting again", target, onnx_path.name)
    _convert(onnx_path, target, source_sha256)
    return target


def _recorded_source(path: Path) -> str | None:
    """The source checksum recorded in an fp16 twin; None if it has none (made elsewhere)."""
    onnx = importlib.import_module("onnx")
    model = onnx.load(str(path), load_external_data=False)
    return next((p.value for p in model.metadata_props if p.key == SOURCE_KEY), None)


def _convert(source: Path, target: Path, source_sha256: str) -> None:
    try:
        onnx = importlib.import_module("onnx")
        float16: Any = importlib.import_module("onnxconverter_common.float16")
    except ImportError as err:
        raise EngineError(
            f"fp16 on TensorRT 11 needs an fp16 ONNX graph {target} ({err}); pip install "
            f"onnxconverter-common and htt_ros makes it, or make it with ModelOpt AutoCast "
            f"(python -m modelopt.onnx.autocast --onnx_path {source} --output_path {target}, "
            f"keeping I/O types), or use precision fp32"
        ) from err
    LOG.warning("converting %s to fp16 for TensorRT 11 (%s)", source.name, target.name)
    model = onnx.load(str(source))
    io_types = {v.name: v.type.tensor_type.elem_type for v in model.graph.output}
    _separate_consumed_outputs(onnx, model)
    model = float16.convert_float_to_float16(
        model,
        keep_io_types=True,
        op_block_list=[*float16.DEFAULT_OP_BLOCK_LIST, *FP32_OPS],
        node_block_list=_name_casts_to_float(model, onnx.TensorProto.FLOAT),
    )
    _restore_output_types(onnx, model, io_types)
    kept = [p for p in model.metadata_props if p.key != SOURCE_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=SOURCE_KEY, value=source_sha256)
    try:
        write_atomic(target, model.SerializeToString())
    except OSError as err:
        raise EngineError(
            f"cannot write {target} ({err}); run `htt-build-engines {source.parent}` once as a "
            f"user who can write that folder, or use precision fp32"
        ) from err


def _name_casts_to_float(model: Any, float_type: int) -> list[str]:
    """Names of the ``Cast(to=FLOAT)`` nodes (naming unnamed ones), to keep them in fp32.

    The converter retypes a Cast's output to fp16 but leaves its ``to`` attribute, which gives an
    invalid graph (e.g. pose_step's uint8 image Cast); a Cast kept in fp32 gets a cast to fp16
    after it instead, and TensorRT fuses the two.
    """
    names = []
    for index, node in enumerate(model.graph.node):
        if node.op_type == "Cast" and any(
            a.name == "to" and a.i == float_type for a in node.attribute
        ):
            node.name = node.name or f"htt_ros_cast_{index}"
            names.append(node.name)
    return names


def _separate_consumed_outputs(onnx: Any, model: Any) -> None:
    """Give each graph output that other nodes also read (pose_step's ``feature``) an Identity of
    its own: the converter casts such an output back to fp32 and then feeds the fp32 tensor to
    its fp16 consumers, which gives an invalid graph."""
    outputs = {v.name for v in model.graph.output}
    consumed = outputs & {name for node in model.graph.node for name in node.input}
    for name in sorted(consumed):
        inner = f"{name}_htt_ros_inner"
        for node in model.graph.node:
            node.input[:] = [inner if n == name else n for n in node.input]
            node.output[:] = [inner if n == name else n for n in node.output]
        model.graph.node.append(
            onnx.helper.make_node("Identity", [inner], [name], name=f"{inner}_identity")
        )


def _restore_output_types(onnx: Any, model: Any, io_types: dict[str, int]) -> None:
    """Cast graph outputs back to their original types where the converter left them fp16
    (it does when the last node is a blocked op such as Softmax)."""
    for output in model.graph.output:
        wanted = io_types[output.name]
        if output.type.tensor_type.elem_type == wanted:
            continue
        inner = f"{output.name}_htt_ros_fp16"
        for node in model.graph.node:
            node.input[:] = [inner if n == output.name else n for n in node.input]
            node.output[:] = [inner if n == output.name else n for n in node.output]
        for info in model.graph.value_info:
            if info.name == output.name:
                info.name = inner
        model.graph.node.append(
            onnx.helper.make_node("Cast", [inner], [output.name], to=wanted, name=f"{inner}_cast")
        )
        output.type.tensor_type.elem_type = wanted
