"""CUDA memory providers: choice (cuda-python first, pycuda accepted), errors, pinned arrays."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from fakes.fake_cuda import FakeGpu, make_fake_cudart
from fakes.helpers import install_cuda

from htt_ros.engines.base import EngineError
from htt_ros.engines.cuda_memory import (
    CudaPythonMemory,
    DeviceInfo,
    PycudaMemory,
    memory_provider,
)


@pytest.mark.parametrize(
    ("cuda_python", "pycuda", "name", "chosen"),
    [
        (True, True, "auto", CudaPythonMemory),
        (False, True, "auto", PycudaMemory),
        (True, False, "auto", CudaPythonMemory),
        (True, True, "pycuda", PycudaMemory),
        (True, True, "cuda-python", CudaPythonMemory),
    ],
)
def test_provider_choice(monkeypatch, cuda_python, pycuda, name, chosen):
    install_cuda(monkeypatch, FakeGpu(), cuda_python=cuda_python, pycuda=pycuda)
    assert type(memory_provider(name)) is chosen


def test_no_provider_says_what_to_install(monkeypatch):
    install_cuda(monkeypatch, FakeGpu(), cuda_python=False, pycuda=False)
    with pytest.raises(EngineError, match=r"pip install cuda-python"):
        memory_provider()
    with pytest.raises(EngineError, match=r"pycuda: .*pip install cuda-python"):
        memory_provider("pycuda")


def test_unknown_provider_lists_the_choices(monkeypatch):
    with pytest.raises(EngineError, match=r"'cupy'.*\['cuda-python', 'pycuda'\]"):
        memory_provider("cupy")


def test_cuda_python_12_legacy_module_is_accepted(monkeypatch):
    gpu = FakeGpu("Jetson AGX Orin", (8, 7))
    install_cuda(monkeypatch, gpu, cuda_python=False, pycuda=False)
    monkeypatch.setitem(sys.modules, "cuda.cudart", make_fake_cudart(gpu))
    assert memory_provider().device_info() == DeviceInfo("Jetson AGX Orin", (8, 7))


@pytest.mark.parametrize("pycuda", [False, True])
def test_device_info_and_pinned_arrays(monkeypatch, pycuda):
    gpu = FakeGpu("NVIDIA H100 80GB HBM3", (9, 0))
    install_cuda(monkeypatch, gpu, cuda_python=not pycuda, pycuda=pycuda)
    memory = memory_provider()
    assert memory.device_info() == DeviceInfo("NVIDIA H100 80GB HBM3", (9, 0))
    for dtype in (np.float16, np.float32, np.bool_, np.uint8):
        array = memory.alloc_pinned((3, 5), np.dtype(dtype))
        assert array.shape == (3, 5) and array.dtype == dtype and array.flags.writeable
        array[...] = 1
        memory.free_pinned(array)


def test_cuda_error_names_the_call_and_the_error(monkeypatch):
    gpu = FakeGpu()
    install_cuda(monkeypatch, gpu, cuda_python=True, pycuda=False)
    gpu.fail = "cudaStreamCreate"
    with pytest.raises(
        EngineError, match=r"cudaStreamCreate failed with cudaErrorMemoryAllocation"
    ):
        memory_provider().create_stream()


def test_real_cuda_python_without_a_driver_gives_a_clear_error():
    """The installed cuda-bindings on this GPU-less machine: calls return error codes."""
    try:
        runtime = importlib.import_module("cuda.bindings.runtime")
    except ImportError:
        pytest.skip("cuda-python is not installed")
    if runtime.cudaGetDeviceCount()[0] == runtime.cudaError_t.cudaSuccess:
        pytest.skip("a CUDA driver is present")
    with pytest.raises(EngineError, match=r"cudaGetDevice failed with cudaError\w+.*nvidia-smi"):
        CudaPythonMemory().device_info()
