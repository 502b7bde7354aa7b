"""Offline training of HTT (Wen et al., CVPR 2023) with the authors' recipe, run from a checkout.

``python -m training.train --config training/configs/fpha.yaml --data DIR --out RUN_DIR`` trains;
``python -m training.evaluate RUN_DIR/checkpoint.pth --data DIR --out REPORT_DIR`` evaluates.
The network, the data set readers and the metrics come from :mod:`htt_ros`; this package adds the
torch side: clip sampling, augmentation, losses, the loop and distributed runs.
"""
