"""A host-backed fake GPU with fake ``cuda.bindings.runtime`` and ``pycuda`` modules on top.

"Device" memory is real host memory (ctypes buffers), so pointers are real addresses and copies
are ``ctypes.memmove``. Work on a stream is *queued* and runs only at synchronize, as on a GPU:
code that reads outputs before synchronising sees stale data. cudart calls return
``(err, *results)`` tuples and never raise, as cuda-python's ``cuda.bindings.runtime`` does.
"""

from __future__ import annotations

import ctypes
import enum
import types
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np


class FakeGpu:
    """Memory, streams and an event log shared by the fake CUDA modules and the fake TensorRT."""

    def __init__(self, name: str = "Orin", compute_capability: tuple[int, int] = (8, 7)) -> None:
        self.name = name
        self.compute_capability = compute_capability
        self.device: dict[int, ctypes.Array] = {}
        self.pinned: dict[int, ctypes.Array] = {}
        self.streams: dict[int, list[tuple[str, Callable[[], None]]]] = {}
        self.events: list[str] = []
        self.fail: str | None = None  # name of a cudart call that returns an error
        self._next_stream = 100

    def alloc(self, table: dict[int, ctypes.Array], nbytes: int) -> int:
        buf = (ctypes.c_ubyte * nbytes)()
        table[ctypes.addressof(buf)] = buf
        return ctypes.addressof(buf)

    def new_stream(self) -> int:
        self._next_stream += 1
        self.streams[self._next_stream] = []
        return self._next_stream

    def enqueue(self, stream: int, label: str, work: Callable[[], None]) -> None:
        self.streams[stream].append((label, work))

    def synchronize(self, stream: int) -> None:
        for label, work in self.streams[stream]:
            work()
            self.events.append(label)
        self.streams[stream].clear()
        self.events.append("sync")

    def view(self, ptr: int, nbytes: int) -> np.ndarray:
        """The device bytes at ``ptr`` as a writable uint8 array; asserts it is one allocation."""
        buf = self.device[ptr]
        assert len(buf) >= nbytes, f"device buffer of {len(buf)} bytes, {nbytes} used"
        return np.frombuffer(buf, np.uint8, count=nbytes)

    def memmove(self, dst: int, src: int, nbytes: int, to_device: bool) -> None:
        assert (dst if to_device else src) in self.device, "copy to/from unknown device memory"
        ctypes.memmove(dst, src, nbytes)


class CudaError(enum.IntEnum):
    cudaSuccess = 0
    cudaErrorMemoryAllocation = 2
    cudaErrorInsufficientDriver = 35


class CudaMemcpyKind(enum.IntEnum):
    cudaMemcpyHostToHost = 0
    cudaMemcpyHostToDevice = 1
    cudaMemcpyDeviceToHost = 2


def make_fake_cudart(gpu: FakeGpu) -> types.ModuleType:
    """A fake ``cuda.bindings.runtime`` over ``gpu``."""
    rt = types.ModuleType("cuda.bindings.runtime")
    ok = CudaError.cudaSuccess

    def result(call: str, *values: object) -> tuple[object, ...]:
        if gpu.fail == call:
            return (CudaError.cudaErrorMemoryAllocation, *(None for _ in values))
        return (ok, *values)

    def memcpy_async(dst: int, src: int, count: int, kind: int, stream: int) -> tuple[object]:
        to_device = kind == CudaMemcpyKind.cudaMemcpyHostToDevice
        label = "h2d" if to_device else "d2h"
        gpu.enqueue(stream, label, lambda: gpu.memmove(dst, src, count, to_device))
        return result("cudaMemcpyAsync")  # type: ignore[return-value]

    def free(table: dict[int, ctypes.Array], ptr: int, call: str) -> tuple[object, ...]:
        del table[ptr]  # KeyError on a double free
        return result(call)

    rt.cudaError_t = CudaError
    rt.cudaMemcpyKind = CudaMemcpyKind
    rt.cudaStreamNonBlocking = 1
    rt.cudaGetErrorName = lambda err: (ok, CudaError(err).name.encode())
    rt.cudaGetDevice = lambda: result("cudaGetDevice", 0)
    rt.cudaGetDeviceProperties = lambda dev: result(
        "cudaGetDeviceProperties",
        SimpleNamespace(
            name=gpu.name.encode() + b"\x00" * 8,
            major=gpu.compute_capability[0],
            minor=gpu.compute_capability[1],
        ),
    )
    rt.cudaMalloc = lambda n: result("cudaMalloc", gpu.alloc(gpu.device, n))
    rt.cudaFree = lambda ptr: free(gpu.device, ptr, "cudaFree")
    rt.cudaMallocHost = lambda n: result("cudaMallocHost", gpu.alloc(gpu.pinned, n))
    rt.cudaFreeHost = lambda ptr: free(gpu.pinned, ptr, "cudaFreeHost")
    rt.cudaStreamCreateWithFlags = lambda flags: result("cudaStreamCreate", gpu.new_stream())
    rt.cudaStreamDestroy = lambda s: (gpu.streams.pop(s), result("cudaStreamDestroy"))[1]
    rt.cudaStreamSynchronize = lambda s: (gpu.synchronize(s), result("cudaStreamSynchronize"))[1]
    rt.cudaMemcpyAsync = memcpy_async
    return rt


def make_fake_pycuda(gpu: FakeGpu) -> dict[str, types.ModuleType]:
    """Fake ``pycuda``, ``pycuda.driver`` and ``pycuda.autoprimaryctx`` modules over ``gpu``.

    ``gpu.context_depth`` counts pushes minus pops, so tests can check they balance.
    """
    drv = types.ModuleType("pycuda.driver")
    gpu.context_depth = 0  # type: ignore[attr-defined]

    class DeviceAllocation:
        def __init__(self, nbytes: int) -> None:
            assert gpu.context_depth > 0, "pycuda call without a current context"  # type: ignore[attr-defined]
            self.ptr = gpu.alloc(gpu.device, nbytes)

        def __int__(self) -> int:
            return self.ptr

        def free(self) -> None:
            del gpu.device[self.ptr]

    class Pagelocked:
        def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
            self.data = np.zeros(shape, dtype)
            self.__array_interface__ = self.data.__array_interface__
            self.freed = False

        def free(self) -> None:
            assert not self.freed, "pinned memory freed twice"
            self.freed = True

    class Stream:
        def __init__(self) -> None:
            self.handle = gpu.new_stream()

        def synchronize(self) -> None:
            gpu.synchronize(self.handle)

    class Context:
        @staticmethod
        def pop() -> None:
            gpu.context_depth -= 1  # type: ignore[attr-defined]

    class PrimaryContext:
        def push(self) -> None:
            gpu.context_depth += 1  # type: ignore[attr-defined]

    def htod(dest: DeviceAllocation, src: np.ndarray, stream: Stream) -> None:
        gpu.enqueue(
            stream.handle, "h2d", lambda: gpu.memmove(int(dest), src.ctypes.data, src.nbytes, True)
        )

    def dtoh(dest: np.ndarray, src: DeviceAllocation, stream: Stream) -> None:
        gpu.enqueue(
            stream.handle,
            "d2h",
            lambda: gpu.memmove(dest.ctypes.data, int(src), dest.nbytes, False),
        )

    drv.mem_alloc = DeviceAllocation
    drv.pagelocked_empty = lambda shape, dtype: np.asarray(Pagelocked(shape, dtype))
    drv.Stream = Stream
    drv.Context = Context
    drv.memcpy_htod_async = htod
    drv.memcpy_dtoh_async = dtoh
    primary = types.ModuleType("pycuda.autoprimaryctx")
    primary.context = PrimaryContext()
    primary.device = SimpleNamespace(
        name=lambda: gpu.name, compute_capability=lambda: gpu.compute_capability
    )
    package = types.ModuleType("pycuda")
    package.driver = drv
    package.autoprimaryctx = primary
    return {"pycuda": package, "pycuda.driver": drv, "pycuda.autoprimaryctx": primary}
