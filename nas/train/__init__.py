"""Proxy and full training of built specs: the recipe (``TrainConfig``), the loop (``train``),
per-epoch checkpoints that resume exactly."""
from nas.train.checkpoint import Checkpointer
from nas.train.config import TrainConfig, lr_at
from nas.train.trainer import TrainResult, evaluate_model, resolve_device, train

__all__ = ["Checkpointer", "TrainConfig", "TrainResult", "evaluate_model", "lr_at", "resolve_device", "train"]
