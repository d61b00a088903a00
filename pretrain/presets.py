"""Named sets of pretraining settings, so a run is reproducible from one word (``sapbert pretrain --preset``).

Each preset overrides fields of :class:`pretrain.train.TrainConfig`; options given on the command line override
the preset in turn.
"""

from __future__ import annotations

PRESETS: dict[str, dict] = {
    "seed-klue": {
        "description": (
            "The seed project's recipe: klue/bert-base, 1 epoch, 64 pairs a batch, 64 tokens, dropout 0.1, CLS "
            "pooling, dev scoring every 100 steps, Multi-Similarity threshold 0.8, scale_pos 1, scale_neg 60. "
            "The seed's temperature 0.5 has no counterpart: the Multi-Similarity loss has no temperature."
        ),
        "settings": {
            "model": "klue/bert-base",
            "epochs": 1,
            "batch_size": 64,
            "max_length": 64,
            "dropout": 0.1,
            "pooling": "cls",
            "eval_step": 100,
            "base": 0.8,
            "alpha": 1.0,
            "beta": 60.0,
        },
    },
    "sapbert-paper": {
        "description": (
            "SapBERT (Liu et al., 2021): Multi-Similarity alpha 1, beta 60, base 0.5, hard-pair mining (margin "
            "0.2), AdamW lr 2e-5, 256 pairs a batch, 25 tokens, CLS pooling, 1 epoch."
        ),
        "settings": {
            "alpha": 1.0,
            "beta": 60.0,
            "base": 0.5,
            "mining_margin": 0.2,
            "lr": 2e-5,
            "weight_decay": 0.01,
            "batch_size": 256,
            "max_length": 25,
            "pooling": "cls",
            "epochs": 1,
        },
    },
    "cpu-e5-small": {
        "description": (
            "A few minutes on a laptop CPU: the offline multilingual-e5-small (mean pooling, 'query: ' prefix) with "
            "its 96M-parameter word embeddings frozen (~21M trained), 24 tokens, 32 pairs a batch, 150 steps, "
            "lr 5e-5 with 10% warmup; dev scoring at the start, every 75 steps and at the end, on up to 500 dev "
            "names linked against the names of their codes and of 500 random other codes (the full dictionary "
            "would take the CPU far longer than the training). Run it with OMP_NUM_THREADS=1 on a busy 2-core "
            "machine."
        ),
        "settings": {
            "model": "e5-small-offline",
            "freeze_embeddings": True,
            "max_length": 24,
            "batch_size": 32,
            "max_steps": 150,
            "lr": 5e-5,
            "warmup": 0.1,
            "eval_step": 75,
            "dev_max_queries": 500,
            "dev_distractor_codes": 500,
            "eval_batch_size": 128,
            "device": "cpu",
        },
    },
}


def preset_settings(name: str) -> dict:
    """Return a copy of the settings of preset ``name``; ValueError names the known presets otherwise."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}")
    return dict(PRESETS[name]["settings"])
