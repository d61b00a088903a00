"""Re-train the shipped default model: SapBERT pretraining of the top encoder layers, then export a small delta.

Only the top ``top_layers`` transformer layers of the offline base learn; the embeddings and the lower layers stay
frozen, so autograd never runs backward through them (a CPU step costs about the forward pass plus the top layers'
backward) and the shipped delta holds just those layers in fp16 (:mod:`pretrain.default_model`).

Command: ``sapbert pretrain-default`` (:mod:`pretrain.default_model_cli`, which lists the data commands first).
"""

from __future__ import annotations

from pathlib import Path

from pretrain.train import TrainConfig, Trainer

RECIPE: dict = {
    "model": "e5-small-offline",
    "freeze_embeddings": True,
    "max_length": 24,
    "batch_size": 64,
    "lr": 1e-4,
    "warmup": 0.05,
    "schedule": "linear",
    "max_steps": 1200,
    "eval_step": 200,
    "dev_distractor_codes": 1000,
    "eval_batch_size": 128,
    "device": "cpu",
}


def layer_stack(model):
    """Return the model's list of transformer layers (BERT/XLM-R ``encoder.layer``)."""
    return model.encoder.layer


def freeze_below_top(model, top_layers: int) -> list[str]:
    """Freeze every parameter except those of the top ``top_layers`` layers; return the trained tensors' names."""
    layers = layer_stack(model)
    if not 1 <= top_layers <= len(layers):
        raise ValueError(f"top_layers must be between 1 and {len(layers)}, got {top_layers}")
    model.requires_grad_(False)
    for layer in layers[len(layers) - top_layers :]:
        layer.requires_grad_(True)
    return [name for name, parameter in model.named_parameters() if parameter.requires_grad]


class TopLayersTrainer(Trainer):
    """The pretraining :class:`~pretrain.train.Trainer` with all but the top ``top_layers`` layers frozen.

    Frozen parameters never receive gradients, so AdamW skips them and the checkpoint's optimizer state covers the
    trained layers only; resuming re-applies the same freezing before the first step.
    """

    def __init__(self, config: TrainConfig, top_layers: int, resume: bool = False) -> None:
        self.top_layers = top_layers
        super().__init__(config, resume=resume)
        self.trainable = sum(p.numel() for p in self.module.parameters() if p.requires_grad)

    def freeze_parameters(self) -> None:
        """Freeze as the base trainer does, then everything below the top layers (before the optimizer and DDP)."""
        super().freeze_parameters()
        self.trained_names = freeze_below_top(self.encoder.model, self.top_layers)


def recipe_config(train: Path, dev: Path, dictionary: Path | None, output: Path, **overrides) -> TrainConfig:
    """Return the default model's training settings (:data:`RECIPE`) for these files, with ``overrides`` on top."""
    settings = dict(RECIPE)
    settings.update({key: value for key, value in overrides.items() if value is not None})
    settings.update(train=str(train), dev=str(dev), output=str(output))
    settings["dictionary"] = str(dictionary) if dictionary else None
    return TrainConfig.from_dict(settings)
