"""Device memory, pinned host memory and streams for the TensorRT backend.

Two providers behind one small interface: cuda-python (``cuda.bindings.runtime``, NVIDIA's
own choice since TensorRT 10.14, installed from a wheel) and pycuda (compiled from source,
accepted where it is already installed). :func:`memory_provider` picks cuda-python first.

Both use the device's *primary* context, the one TensorRT uses, so buffers can be shared with
TensorRT from any thread (pycuda through ``pycuda.autoprimaryctx``, not ``pycuda.autoinit``).
Pointers and stream handles are plain ints, which is what ``set_tensor_address`` and
``execute_async_v3`` take.
"""

from __future__ import annotations

import ctypes
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from htt_ros.engines.base import EngineError

PROVIDERS = ("cuda-python", "pycuda")


@dataclass(frozen=True)
class DeviceInfo:
    """The GPU engines are built for: its name and compute capability (major, minor)."""

    name: str
    compute_capability: tuple[int, int]


class MemoryProvider(Protocol):
    """Allocation, copies and streams on one GPU. Copies are asynchronous on ``stream``."""

    name: str

    def device_info(self) -> DeviceInfo: ...

    def alloc_device(self, nbytes: int) -> int: ...

    def free_device(self, ptr: int) -> None: ...

    def alloc_pinned(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray: ...

    def free_pinned(self, array: np.ndarray) -> None: ...

    def create_stream(self) -> int: ...

    def destroy_stream(self, stream: int) -> None: ...

    def copy_to_device(self, dst: int, src: np.ndarray, stream: int) -> None: ...

    def copy_to_host(self, dst: np.ndarray, src: int, stream: int) -> None: ...

    def synchronize(self, stream: int) -> None: ...


def _import_cudart() -> Any:
    """cuda-python's runtime module: ``cuda.bindings.runtime`` (12.x and 13.x), else the 12.x
    ``cuda.cudart`` alias."""
    try:
        return importlib.import_module("cuda.bindings.runtime")
    except ImportError:
        return importlib.import_module("cuda.cudart")


class CudaPythonMemory:
    """:class:`MemoryProvider` over cuda-python's runtime API.

    Every cudart call returns ``(err, *results)`` and never raises; :meth:`_call` turns a
    non-success code into an :class:`EngineError` that names the call and the CUDA error.
    """

    name = "cuda-python"

    def __init__(self) -> None:
        self._rt = _import_cudart()
        self._pinned: dict[int, int] = {}  # id(array) -> host pointer
        self._h2d = self._rt.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._d2h = self._rt.cudaMemcpyKind.cudaMemcpyDeviceToHost

    def _call(self, what: str, result: tuple[Any, ...]) -> Any:
        err = result[0]
        if err != self._rt.cudaError_t.cudaSuccess:
            name = self._rt.cudaGetErrorName(err)[1]
            name = name.decode() if isinstance(name, bytes) else str(name)
            if "MemoryAllocation" in name:
                fix = "the GPU is out of memory: stop other GPU processes or use a smaller model"
            else:
                fix = (
                    "check that the NVIDIA driver is loaded and the GPU is visible (nvidia-smi), "
                    "and that cuda-python matches the driver's CUDA major version (pip install "
                    "'cuda-python<13' for a CUDA 12 driver, e.g. JetPack 6)"
                )
            raise EngineError(f"CUDA {what} failed with {name}: {fix}")
        return result[1] if len(result) > 1 else None

    def device_info(self) -> DeviceInfo:
        device = self._call("cudaGetDevice", self._rt.cudaGetDevice())
        prop = self._call("cudaGetDeviceProperties", self._rt.cudaGetDeviceProperties(device))
        name = prop.name.decode(errors="replace") if isinstance(prop.name, bytes) else prop.name
        return DeviceInfo(name.rstrip("\x00").strip(), (int(prop.major), int(prop.minor)))

    def alloc_device(self, nbytes: int) -> int:
        return int(self._call("cudaMalloc", self._rt.cudaMalloc(max(nbytes, 1))))

    def free_device(self, ptr: int) -> None:
        self._call("cudaFree", self._rt.cudaFree(ptr))

    def alloc_pinned(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        ptr = int(self._call("cudaMallocHost", self._rt.cudaMallocHost(max(nbytes, 1))))
        # A uint8 view of the pinned bytes, then the dtype (ctypes has no float16).
        raw = np.frombuffer((ctypes.c_ubyte * max(nbytes, 1)).from_address(ptr), np.uint8)
        array = raw[:nbytes].view(dtype).reshape(shape)
        self._pinned[id(array)] = ptr
        return array

    def free_pinned(self, array: np.ndarray) -> None:
        self._call("cudaFreeHost", self._rt.cudaFreeHost(self._pinned.pop(id(array))))

    def create_stream(self) -> int:
        # A non-blocking stream: execute_async_v3 on the default stream costs extra syncs.
        flags = self._rt.cudaStreamNonBlocking
        return int(self._call("cudaStreamCreate", self._rt.cudaStreamCreateWithFlags(flags)))

    def destroy_stream(self, stream: int) -> None:
        self._call("cudaStreamDestroy", self._rt.cudaStreamDestroy(stream))

    def copy_to_device(self, dst: int, src: np.ndarray, stream: int) -> None:
        result = self._rt.cudaMemcpyAsync(dst, src.ctypes.data, src.nbytes, self._h2d, stream)
        self._call("cudaMemcpyAsync (host to device)", result)

    def copy_to_host(self, dst: np.ndarray, src: int, stream: int) -> None:
        result = self._rt.cudaMemcpyAsync(dst.ctypes.data, src, dst.nbytes, self._d2h, stream)
        self._call("cudaMemcpyAsync (device to host)", result)

    def synchronize(self, stream: int) -> None:
        self._call("cudaStreamSynchronize", self._rt.cudaStreamSynchronize(stream))


class PycudaMemory:
    """:class:`MemoryProvider` over pycuda, on the primary context (``pycuda.autoprimaryctx``).

    ``autoprimaryctx`` makes the context current only on the importing thread, so every call
    pushes it and pops it again: the provider works from any ROS executor thread. pycuda frees an
    allocation when its Python object dies, so the objects are kept here, keyed by pointer.
    """

    name = "pycuda"

    def __init__(self) -> None:
        self._drv = importlib.import_module("pycuda.driver")
        primary = importlib.import_module("pycuda.autoprimaryctx")
        self._context = primary.context
        self._device = primary.device
        self._allocations: dict[int, Any] = {}
        self._streams: dict[int, Any] = {}

    @contextmanager
    def _current(self) -> Iterator[None]:
        self._context.push()
        try:
            yield
        finally:
            self._drv.Context.pop()

    def device_info(self) -> DeviceInfo:
        major, minor = self._device.compute_capability()
        return DeviceInfo(str(self._device.name()).strip(), (int(major), int(minor)))

    def alloc_device(self, nbytes: int) -> int:
        with self._current():
            allocation = self._drv.mem_alloc(max(nbytes, 1))
        self._allocations[int(allocation)] = allocation
        return int(allocation)

    def free_device(self, ptr: int) -> None:
        with self._current():
            self._allocations.pop(ptr).free()

    def alloc_pinned(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        with self._current():
            return self._drv.pagelocked_empty(shape, dtype)

    def free_pinned(self, array: np.ndarray) -> None:
        with self._current():
            array.base.free()

    def create_stream(self) -> int:
        with self._current():
            stream = self._drv.Stream()
        self._streams[int(stream.handle)] = stream
        return int(stream.handle)

    def destroy_stream(self, stream: int) -> None:
        with self._current():
            del self._streams[stream]

    def copy_to_device(self, dst: int, src: np.ndarray, stream: int) -> None:
        with self._current():
            self._drv.memcpy_htod_async(self._allocations[dst], src, self._streams[stream])

    def copy_to_host(self, dst: np.ndarray, src: int, stream: int) -> None:
        with self._current():
            self._drv.memcpy_dtoh_async(dst, self._allocations[src], self._streams[stream])

    def synchronize(self, stream: int) -> None:
        with self._current():
            self._streams[stream].synchronize()


_CLASSES: dict[str, type[CudaPythonMemory] | type[PycudaMemory]] = {
    "cuda-python": CudaPythonMemory,
    "pycuda": PycudaMemory,
}


def memory_provider(name: str = "auto") -> MemoryProvider:
    """The provider called ``name`` (one of :data:`PROVIDERS`), or with ``"auto"`` the first that
    imports: cuda-python, then pycuda. Raises :class:`EngineError` when none can be used."""
    if name != "auto" and name not in _CLASSES:
        raise EngineError(
            f"unknown CUDA memory provider {name!r}; choose 'auto' or one of {list(PROVIDERS)}"
        )
    failures = []
    for candidate in PROVIDERS if name == "auto" else (name,):
        try:
            return _CLASSES[candidate]()
        except ImportError as err:
            failures.append(f"{candidate}: {err}")
    raise EngineError(
        f"no CUDA memory provider for the TensorRT backend ({'; '.join(failures)}): "
        f"pip install cuda-python (or install pycuda), or use the onnxruntime backend"
    )
