"""Data set readers (FPHA, H2O), the synthetic data set generator and their shared types.

numpy (and Pillow for images) only: training, the replay tools, the demo and the tests use them.
"""

from htt_ros.data.dataset import IMAGE_SIZE, DatasetError, Sequence, SequenceDataset
from htt_ros.data.fpha import load_fpha
from htt_ros.data.h2o import load_h2o
from htt_ros.data.synthetic import (
    SyntheticSequence,
    generate_sequence,
    synthetic_labels,
    write_dataset,
)

__all__ = [
    "IMAGE_SIZE",
    "DatasetError",
    "Sequence",
    "SequenceDataset",
    "SyntheticSequence",
    "generate_sequence",
    "load_fpha",
    "load_h2o",
    "synthetic_labels",
    "write_dataset",
]
