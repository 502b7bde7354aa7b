"""Inference backends behind one interface: ONNX Runtime (default), TensorRT and PyTorch."""
