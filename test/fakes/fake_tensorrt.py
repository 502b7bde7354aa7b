"""A fake ``tensorrt`` module, 10.x or 11.x flavoured, behaving as TensorRT does where htt_ros
relies on it.

- 10.x has ``BuilderFlag.FP16`` and ``NetworkDefinitionCreationFlag.EXPLICIT_BATCH``; 11.x has
  neither (referencing them raises AttributeError) and every network is strongly typed.
- The parser reads the ONNX with the ``onnx`` package: graph I/O become the network's I/O; a uint8
  graph input not consumed by a Cast fails the parse, as in TensorRT.
- Failures return False/None and go to the logger, never raise (except ``deserialize_raises``).
- A plan is ``MAGIC`` + JSON (version, GPU, I/O, build options); deserialize rejects other
  versions, other GPUs and damaged plans with None, like TensorRT.
- ``execute_async_v3`` queues :func:`fake_outputs` of the inputs on the fake GPU's stream, reading
  and writing device memory at the addresses it was given.
"""

from __future__ import annotations

import enum
import json
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

from .fake_cuda import FakeGpu

MAGIC = b"FAKE-TRT-PLAN\n"
VERSIONS = {10: "10.3.0.26", 11: "11.4.0.106"}


class DataType(enum.IntEnum):
    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    INT64 = 7
    BF16 = 9


_NUMPY = {
    DataType.FLOAT: np.float32,
    DataType.HALF: np.float16,
    DataType.INT8: np.int8,
    DataType.INT32: np.int32,
    DataType.INT64: np.int64,
    DataType.BOOL: np.bool_,
    DataType.UINT8: np.uint8,
}
_FROM_ONNX = {
    onnx.TensorProto.FLOAT: DataType.FLOAT,
    onnx.TensorProto.FLOAT16: DataType.HALF,
    onnx.TensorProto.INT8: DataType.INT8,
    onnx.TensorProto.INT32: DataType.INT32,
    onnx.TensorProto.INT64: DataType.INT64,
    onnx.TensorProto.BOOL: DataType.BOOL,
    onnx.TensorProto.UINT8: DataType.UINT8,
    onnx.TensorProto.BFLOAT16: DataType.BF16,
}


def nptype(dtype: DataType) -> type:
    if dtype not in _NUMPY:
        raise TypeError(
            f"Could not resolve TensorRT datatype to an equivalent numpy datatype. {dtype}"
        )
    return _NUMPY[dtype]


def fake_outputs(
    feeds: dict[str, np.ndarray], outputs: list[tuple[str, tuple[int, ...], np.dtype]]
) -> dict[str, np.ndarray]:
    """What the fake engine computes: every output depends on every input (weighted by its name's
    sorted position, so swapped bindings show) and on the output's own position."""
    total = sum(
        (k + 1) * float(np.asarray(feeds[n], np.float64).sum())
        for k, n in enumerate(sorted(feeds))
    )
    return {
        name: (total + 1000 * (j + 1) + np.arange(int(np.prod(shape)))).reshape(shape).astype(dt)
        for j, (name, shape, dt) in enumerate(outputs)
    }


@dataclass
class Behaviour:
    """Knobs (failures to inject) and records (what the code under test did)."""

    fail_parse: bool = False
    build_none: bool = False
    deserialize_failures: int = 0
    deserialize_raises: int = 0
    context_none: bool = False
    execute_false: bool = False
    set_address_false: bool = False
    networks: list[Any] = field(default_factory=list)
    configs: list[Any] = field(default_factory=list)
    builds: int = 0
    deserialized: int = 0
    executed: int = 0


def make_fake_tensorrt(major: int, gpu: FakeGpu) -> types.ModuleType:
    """A fake ``tensorrt`` of version ``VERSIONS[major]``; its ``fake`` attribute is the
    :class:`Behaviour`."""
    trt = types.ModuleType("tensorrt")
    trt.__version__ = VERSIONS[major]
    fake = trt.fake = Behaviour()

    if major == 10:
        creation = {"EXPLICIT_BATCH": 0, "STRONGLY_TYPED": 1, "PREFER_JIT_PYTHON_PLUGINS": 2}
        flags = [
            "FP16",
            "BF16",
            "INT8",
            "TF32",
            "GPU_FALLBACK",
            "VERSION_COMPATIBLE",
            "OBEY_PRECISION_CONSTRAINTS",
        ]
    else:
        creation = {
            "STRONGLY_TYPED": 1,
            "PREFER_AOT_PYTHON_PLUGINS": 2,
            "PREFER_JIT_PYTHON_PLUGINS": 3,
        }
        flags = ["TF32", "GPU_FALLBACK", "VERSION_COMPATIBLE", "DIRECT_IO"]
    trt.NetworkDefinitionCreationFlag = enum.IntEnum("NetworkDefinitionCreationFlag", creation)
    trt.BuilderFlag = enum.IntEnum("BuilderFlag", {n: i for i, n in enumerate(flags)})
    trt.MemoryPoolType = enum.IntEnum("MemoryPoolType", {"WORKSPACE": 0, "DLA_MANAGED_SRAM": 1})
    trt.TensorIOMode = enum.IntEnum("TensorIOMode", {"NONE": 0, "INPUT": 1, "OUTPUT": 2})
    trt.DeviceType = enum.IntEnum("DeviceType", {"GPU": 0, "DLA": 1})
    trt.HardwareCompatibilityLevel = enum.IntEnum(
        "HardwareCompatibilityLevel", {"NONE": 0, "AMPERE_PLUS": 1, "SAME_COMPUTE_CAPABILITY": 2}
    )
    trt.DataType = DataType
    trt.float32, trt.float16, trt.int8 = DataType.FLOAT, DataType.HALF, DataType.INT8
    trt.int32, trt.int64, trt.bool, trt.uint8 = (
        DataType.INT32,
        DataType.INT64,
        DataType.BOOL,
        DataType.UINT8,
    )
    trt.bfloat16 = DataType.BF16
    trt.nptype = nptype
    trt.volume = lambda shape: int(np.prod(tuple(shape), dtype=np.int64))

    class ILogger:
        class Severity(enum.IntEnum):
            INTERNAL_ERROR = 0
            ERROR = 1
            WARNING = 2
            INFO = 3
            VERBOSE = 4

        def __init__(self) -> None:
            self.initialised = True

        def log(self, severity: ILogger.Severity, msg: str) -> None:
            raise NotImplementedError

    class Logger(ILogger):
        def __init__(self, min_severity: ILogger.Severity = ILogger.Severity.WARNING) -> None:
            super().__init__()
            self.min_severity = min_severity

        def log(self, severity: ILogger.Severity, msg: str) -> None:
            pass

    for member in ILogger.Severity:
        setattr(Logger, member.name, member)

    def check_logger(logger: Any) -> Any:
        assert isinstance(logger, ILogger) and getattr(logger, "initialised", False), (
            "logger must be an ILogger whose ILogger.__init__ ran"
        )
        return logger

    class Network:
        def __init__(self, flags: int) -> None:
            allowed = sum(1 << int(f) for f in trt.NetworkDefinitionCreationFlag)
            assert flags & ~allowed == 0, f"unknown network creation flags {flags}"
            self.flags = flags
            self.strongly_typed = major >= 11 or bool(
                flags & (1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
            )
            self.io: list[tuple[str, int, list[int], int]] = []
            self.fp16_tensors = False

    class ParserError:
        def __init__(self, desc: str) -> None:
            self._desc = desc

        def desc(self) -> str:
            return self._desc

        def __str__(self) -> str:
            return f"In node -1 with name:  and operator:  (parse): INVALID_GRAPH: {self._desc}"

    class OnnxParser:
        def __init__(self, network: Network, logger: Any) -> None:
            self.network, self.logger = network, check_logger(logger)
            self.errors: list[ParserError] = []

        @property
        def num_errors(self) -> int:
            return len(self.errors)

        def get_error(self, index: int) -> ParserError:
            return self.errors[index]

        def parse(self, model: bytes, path: str | None = None) -> bool:
            if fake.fail_parse:
                self.errors.append(ParserError("Assertion failed: unsupported operator Foo"))
                return False
            try:
                proto = onnx.load_from_string(bytes(model))
            except Exception as err:  # the real parser reports any protobuf failure
                self.errors.append(ParserError(f"Failed to parse ONNX model: {err}"))
                return False
            graph = proto.graph
            for value in graph.input:
                kind = value.type.tensor_type.elem_type
                users = [n.op_type for n in graph.node if value.name in n.input]
                if kind == onnx.TensorProto.UINT8 and set(users) - {"Cast"}:
                    self.errors.append(
                        ParserError("UINT8 is only supported as network input followed by Cast")
                    )
                    return False
            for mode, values in ((1, graph.input), (2, graph.output)):
                for value in values:
                    dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
                    kind = _FROM_ONNX[value.type.tensor_type.elem_type]
                    self.network.io.append((value.name, mode, dims, int(kind)))
            self.network.fp16_tensors = any(
                t.data_type == onnx.TensorProto.FLOAT16 for t in graph.initializer
            )
            return True

    class Config:
        def __init__(self) -> None:
            self.flags: set[Any] = set()
            self.pool_limits: dict[Any, int] = {}

        def set_flag(self, flag: Any) -> None:
            self.flags.add(trt.BuilderFlag(flag))

        def get_flag(self, flag: Any) -> bool:
            return flag in self.flags

        def set_memory_pool_limit(self, pool: Any, size: int) -> None:
            self.pool_limits[trt.MemoryPoolType(pool)] = size

    class HostMemory(bytes):
        @property
        def nbytes(self) -> int:
            return len(self)

    class Builder:
        def __init__(self, logger: Any) -> None:
            self.logger = check_logger(logger)

        def create_network(self, flags: int = 0) -> Network:
            network = Network(flags)
            fake.networks.append(network)
            return network

        def create_builder_config(self) -> Config:
            config = Config()
            fake.configs.append(config)
            return config

        def build_serialized_network(self, network: Network, config: Config) -> HostMemory | None:
            severity = ILogger.Severity
            self.logger.log(severity.INFO, "[MemUsageChange] Init builder kernel library")
            fp16 = "FP16" in trt.BuilderFlag.__members__ and trt.BuilderFlag.FP16 in config.flags
            if fp16 and network.strongly_typed:
                self.logger.log(severity.ERROR, "flag FP16 is incompatible with strongly typed")
                return None
            if fake.build_none or not network.io:
                self.logger.log(severity.ERROR, "Network build failed: out of tactics")
                return None
            fake.builds += 1
            plan = {
                "version": trt.__version__,
                "gpu": [gpu.name, *gpu.compute_capability],
                "io": network.io,
                "fp16_flag": fp16,
                "fp16_tensors": network.fp16_tensors,
            }
            return HostMemory(MAGIC + json.dumps(plan).encode())

    class Engine:
        def __init__(self, plan: dict[str, Any]) -> None:
            self.plan = plan
            self.io = {
                name: (mode, tuple(dims), DataType(dt)) for name, mode, dims, dt in plan["io"]
            }
            self.names = [entry[0] for entry in plan["io"]]

        @property
        def num_io_tensors(self) -> int:
            return len(self.names)

        def get_tensor_name(self, index: int) -> str:
            return self.names[index]

        def get_tensor_mode(self, name: str) -> Any:
            return trt.TensorIOMode(self.io[name][0])

        def get_tensor_shape(self, name: str) -> tuple[int, ...]:
            return self.io[name][1]

        def get_tensor_dtype(self, name: str) -> DataType:
            return self.io[name][2]

        def create_execution_context(self) -> Context | None:
            return None if fake.context_none else Context(self)

    class Context:
        def __init__(self, engine: Engine) -> None:
            self.engine = engine
            self.addresses: dict[str, int] = {}

        def set_tensor_address(self, name: str, ptr: int) -> bool:
            if fake.set_address_false or name not in self.engine.io:
                return False
            self.addresses[name] = int(ptr)
            return True

        def execute_async_v3(self, stream_handle: int) -> bool:
            if fake.execute_false or set(self.addresses) != set(self.engine.io):
                return False
            gpu.enqueue(int(stream_handle), "execute", self._execute)
            return True

        def _execute(self) -> None:
            fake.executed += 1
            feeds, outputs = {}, []
            for name in self.engine.names:
                mode, shape, dt = self.engine.io[name]
                np_dtype = np.dtype(nptype(dt))
                nbytes = int(np.prod(shape)) * np_dtype.itemsize
                if mode == trt.TensorIOMode.INPUT:
                    feeds[name] = gpu.view(self.addresses[name], nbytes).view(np_dtype)
                else:
                    outputs.append((name, shape, np_dtype))
            for name, value in fake_outputs(feeds, outputs).items():
                gpu.view(self.addresses[name], value.nbytes)[:] = value.reshape(-1).view(np.uint8)

    class Runtime:
        def __init__(self, logger: Any) -> None:
            self.logger = check_logger(logger)

        def deserialize_cuda_engine(self, data: Any) -> Engine | None:
            error = ILogger.Severity.ERROR
            if fake.deserialize_raises:
                fake.deserialize_raises -= 1
                raise RuntimeError("std::exception in deserializeCudaEngine")
            if fake.deserialize_failures:
                fake.deserialize_failures -= 1
                self.logger.log(error, "IRuntime::deserializeCudaEngine: Error Code 1: Myelin")
                return None
            raw = bytes(data)
            try:
                assert raw.startswith(MAGIC)
                plan = json.loads(raw[len(MAGIC) :])
            except (AssertionError, ValueError):
                self.logger.log(error, "Serialization assertion failed: magic tag does not match")
                return None
            if plan["version"] != trt.__version__:
                self.logger.log(
                    error,
                    f"The engine plan file is not compatible with this version "
                    f"of TensorRT, expecting library version {trt.__version__} "
                    f"got {plan['version']}, please rebuild.",
                )
                return None
            if tuple(plan["gpu"][1:]) != gpu.compute_capability:
                self.logger.log(
                    error,
                    "The engine plan file is generated on an incompatible device, please rebuild.",
                )
                return None
            fake.deserialized += 1
            return Engine(plan)

    trt.ILogger, trt.Logger = ILogger, Logger
    trt.Builder, trt.OnnxParser, trt.Runtime = Builder, OnnxParser, Runtime
    return trt
