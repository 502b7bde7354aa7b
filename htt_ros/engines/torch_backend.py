"""PyTorch backend: the network itself, CPU or CUDA, as the reference the others must match."""

from pathlib import Path

import numpy as np
import torch

from htt_ros.engines.base import EngineError, TensorSpec, check_feeds
from htt_ros.model.checkpoint import CheckpointError, load_checkpoint
from htt_ros.model.graphs import ActionStep, PoseStep


class TorchRunner:
    """One of the two inference graphs as a torch module, fed and read as numpy."""

    backend = "torch"

    def __init__(
        self,
        module: torch.nn.Module,
        inputs: tuple[TensorSpec, ...],
        outputs: tuple[TensorSpec, ...],
        device: str = "cpu",
    ) -> None:
        self.module = module.to(device).eval()
        self.inputs, self.outputs, self.device = inputs, outputs, torch.device(device)

    @torch.inference_mode()
    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        check_feeds(self.inputs, feeds, type(self.module).__name__)
        args = [torch.from_numpy(feeds[spec.name]).to(self.device) for spec in self.inputs]
        values = self.module(*args)
        values = values if isinstance(values, tuple) else (values,)
        return {
            spec.name: value.float().cpu().numpy()
            for spec, value in zip(self.outputs, values, strict=True)
        }


def load_torch_runners(
    weights: Path,
    specs: dict[str, tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]],
    device: str = "cpu",
    threads: int = 0,
) -> dict[str, TorchRunner]:
    """``pose_step`` and ``action`` runners from a model folder's ``network.pt``.

    ``specs`` gives each graph's (inputs, outputs) from the model card. ``threads`` > 0 sets
    torch's intra-op threads (process-wide).
    """
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise EngineError(f"device {device} asked for, but torch sees no CUDA GPU; use cpu")
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        net = load_checkpoint(weights).build_model()
    except (CheckpointError, FileNotFoundError) as error:
        raise EngineError(
            f"{weights}: the torch backend cannot load it ({error}); re-export the model folder "
            f"with htt-export, which writes it"
        ) from error
    return {
        "pose_step": TorchRunner(PoseStep(net), *specs["pose_step"], device=device),
        "action": TorchRunner(ActionStep(net), *specs["action"], device=device),
    }
