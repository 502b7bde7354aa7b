"""ONNX export of the two inference graphs and the model card (torch imported here)."""

from htt_ros.export.onnx_export import export_graphs, export_model_folder

__all__ = ["export_graphs", "export_model_folder"]
