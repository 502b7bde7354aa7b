"""Fakes of TensorRT, cuda-python and pycuda for the TensorRT backend tests."""
