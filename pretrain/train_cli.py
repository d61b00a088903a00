"""The ``sapbert pretrain`` command: SapBERT self-alignment pretraining from a preset plus explicit options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from corpora.cli_support import fail_on_input_error

HELP = """Pretrain an encoder on synonym pairs (SapBERT self-alignment) and write a model folder the linker loads.

The training data is a pair file (header sent0, sent1, label) or a concept table; --dev (mention<TAB>code queries
held out from training) is linked against the training names every --eval-step steps and the best model is kept
in OUTPUT/model. Options override the preset's settings. Under `torchrun --nproc_per_node N -m sapbert_cli pretrain
...` the same command trains on N processes and uses every process's batch as negatives.

Example: sapbert pretrain --preset cpu-e5-small --train kcd/train_pairs.tsv --dev kcd/dev.tsv --output runs/cpu

Continue an interrupted run: sapbert pretrain --output runs/cpu --resume
"""


def _collect(preset: str | None, options: dict, output: Path, resume: bool) -> dict:
    """Return the run's settings: stored ones when resuming, else the preset's; explicit options on top."""
    from pretrain.presets import preset_settings

    settings: dict = {}
    if resume:
        state = output / "checkpoint" / "state.json"
        if state.is_file():
            settings = json.loads(state.read_text(encoding="utf-8"))["config"]
    elif preset:
        settings = preset_settings(preset)
    settings.update({key: value for key, value in options.items() if value is not None})
    settings["output"] = str(output)
    return settings


def register(app: typer.Typer) -> None:
    """Add the ``pretrain`` command to the root `sapbert` application."""

    @app.command("pretrain", help=HELP, no_args_is_help=True)
    @fail_on_input_error
    def pretrain(
        output: Annotated[Path, typer.Option("--output", "-o", help="Folder for model/, checkpoint/, metrics.jsonl.")],
        train: Annotated[
            Path | None, typer.Option("--train", help="Pair file (sent0, sent1, label) or concept table.")
        ] = None,
        preset: Annotated[
            str | None, typer.Option("--preset", help="seed-klue, sapbert-paper or cpu-e5-small.")
        ] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue exactly from OUTPUT/checkpoint.")] = False,
        model: Annotated[str | None, typer.Option(help="Base model: folder, hub name or e5-small-offline.")] = None,
        dev: Annotated[
            Path | None, typer.Option(help="Held-out dev queries (mention<TAB>code or CODE||mention).")
        ] = None,
        dictionary: Annotated[
            Path | None, typer.Option(help="Concept table to link dev queries against (default: the training names).")
        ] = None,
        pooling: Annotated[str | None, typer.Option(help="cls or mean (default: the model's own setting).")] = None,
        max_length: Annotated[int | None, typer.Option(help="Token limit per name.")] = None,
        prefix: Annotated[str | None, typer.Option(help="Text prefix (e5 models: 'query: ').")] = None,
        projection_head: Annotated[
            bool | None,
            typer.Option(
                "--projection-head/--no-projection-head", help="Train through a Linear+Tanh head (not exported)."
            ),
        ] = None,
        dropout: Annotated[float | None, typer.Option(help="Dropout probability of the encoder.")] = None,
        alpha: Annotated[float | None, typer.Option(help="Multi-Similarity scale_pos (default 1).")] = None,
        beta: Annotated[float | None, typer.Option(help="Multi-Similarity scale_neg (default 60).")] = None,
        base: Annotated[float | None, typer.Option(help="Multi-Similarity threshold (default 0.5).")] = None,
        mining_margin: Annotated[float | None, typer.Option(help="Turn hard-pair mining on with this margin.")] = None,
        epochs: Annotated[int | None, typer.Option(help="Passes over the pairs (default 1).")] = None,
        max_steps: Annotated[int | None, typer.Option(help="Cap on optimizer steps (the schedule's length).")] = None,
        stop_after: Annotated[
            int | None, typer.Option(help="Stop after this many steps of this run; --resume later.")
        ] = None,
        batch_size: Annotated[int | None, typer.Option(help="Pairs per batch and process (default 64).")] = None,
        pairs_per_code: Annotated[int | None, typer.Option(help="Pairs of one code kept together in a batch.")] = None,
        accumulation: Annotated[int | None, typer.Option(help="Batches per optimizer step.")] = None,
        lr: Annotated[float | None, typer.Option(help="Peak learning rate (default 2e-5).")] = None,
        weight_decay: Annotated[float | None, typer.Option(help="AdamW decay (not on biases/LayerNorm).")] = None,
        warmup: Annotated[float | None, typer.Option(help="Share of steps of linear warmup.")] = None,
        schedule: Annotated[str | None, typer.Option(help="linear, cosine or constant decay after warmup.")] = None,
        max_grad_norm: Annotated[float | None, typer.Option(help="Gradient clipping norm (0: off).")] = None,
        amp: Annotated[str | None, typer.Option(help="auto (bf16 on capable GPUs), bf16 or off.")] = None,
        freeze_embeddings: Annotated[
            bool | None, typer.Option("--freeze-embeddings/--train-embeddings", help="Keep the word embeddings fixed.")
        ] = None,
        extend_vocab: Annotated[
            int | None, typer.Option(help="Add up to N frequent badly split words as tokens.")
        ] = None,
        vocab_min_count: Annotated[int | None, typer.Option(help="Minimum name count of an added word.")] = None,
        max_pairs_per_code: Annotated[
            int | None, typer.Option(help="Pairs per code drawn from a concept table.")
        ] = None,
        eval_step: Annotated[int | None, typer.Option(help="Score the dev set every N steps.")] = None,
        save_step: Annotated[int | None, typer.Option(help="Checkpoint every N steps (default: eval step).")] = None,
        dev_max_queries: Annotated[
            int | None, typer.Option(help="Score a fixed random sample of N dev queries.")
        ] = None,
        dev_distractor_codes: Annotated[
            int | None,
            typer.Option(help="Fast dev scoring: link against the dev codes plus N random other codes only."),
        ] = None,
        eval_batch_size: Annotated[int | None, typer.Option(help="Batch size when encoding for dev scoring.")] = None,
        seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
        device: Annotated[str | None, typer.Option(help="auto, cpu, cuda...")] = None,
    ) -> None:
        options = dict(locals())
        for name in ("output", "preset", "resume"):
            options.pop(name)
        options["train"] = str(train) if train else None
        options["dev"] = str(dev) if dev else None
        options["dictionary"] = str(dictionary) if dictionary else None
        from pretrain.train import TrainConfig, Trainer

        try:
            config = TrainConfig.from_dict(_collect(preset, options, output, resume))
            trainer = Trainer(config, resume=resume)
        except ValueError as error:  # InputError included: bad input stops before any step
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=2) from error
        summary = trainer.fit()
        if trainer.group.is_main:
            typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
