"""The ``sapbert pretrain-default`` command: re-train the shipped default model and write its delta."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from corpora.cli_support import fail_on_input_error

TOP_LAYERS = 4  # transformer layers the default model trains (from the top)

HELP = """Re-train the shipped default model (sapbert-ko-en-small) and write its delta over the offline base.

Trains the top --top-layers layers of e5-small-offline on the pairs (the rest frozen), keeps the best dev model in
WORK/model, then writes fp16 weights of the trained layers plus metadata into --delta-dir (default: the package's
pretrain/default_model/). The data come first (held-out split, training terminology without dev/test names, pairs):

\b
  sapbert corpora split corpora/data/kcd_concepts.tsv.gz --out-dir W/split --seed 42
  sapbert corpora training-set --kcd W/split/train.parquet --held-out W/split/dev.tsv
      --held-out W/split/test.tsv --out W/training_terms.parquet
  sapbert corpora pairs W/training_terms.parquet --out W/pairs.tsv --max-pairs 4

\b
Example: sapbert pretrain-default --pairs W/pairs.tsv --dev W/split/dev.tsv
    --dictionary W/split/dictionary.parquet --work W/run

Continue an interrupted run with the same command plus --resume. Train a finished run's model further (a new
schedule; the delta is still written over the base) with --start-from W/run/model --work W/run2.
"""


def register(app: typer.Typer) -> None:
    """Add the ``pretrain-default`` command to the root `sapbert` application."""

    @app.command("pretrain-default", help=HELP, no_args_is_help=True)
    @fail_on_input_error
    def pretrain_default(
        pairs: Annotated[Path, typer.Option(help="Pair file (sent0, sent1, label) without dev/test names.")],
        dev: Annotated[Path, typer.Option(help="Held-out dev queries (mention<TAB>code).")],
        work: Annotated[Path, typer.Option(help="Run folder: checkpoint/, model/, metrics.jsonl.")],
        dictionary: Annotated[
            Path | None, typer.Option(help="Concept table the dev queries link against (default: training names).")
        ] = None,
        top_layers: Annotated[int, typer.Option(help="Transformer layers trained (from the top).")] = TOP_LAYERS,
        max_steps: Annotated[int | None, typer.Option(help="Optimizer steps (default: the recipe's).")] = None,
        stop_after: Annotated[int | None, typer.Option(help="Stop after N steps of this run; --resume later.")] = None,
        lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: the recipe's).")] = None,
        start_from: Annotated[
            Path | None,
            typer.Option(help="Continue training this model folder (an earlier WORK/model) instead of the base."),
        ] = None,
        base: Annotated[
            float | None, typer.Option(help="Multi-Similarity threshold lambda (default: the recipe's).")
        ] = None,
        seed: Annotated[int | None, typer.Option(help="Random seed (default: the recipe's).")] = None,
        resume: Annotated[bool, typer.Option(help="Continue from WORK/checkpoint.")] = False,
        export: Annotated[bool, typer.Option(help="Write the delta when training is done.")] = True,
        delta_dir: Annotated[
            Path | None, typer.Option(help="Where the delta goes (default: the package's default_model/).")
        ] = None,
    ) -> None:
        from pretrain.default_model import export_delta
        from pretrain.retrain_default import RECIPE, TopLayersTrainer, recipe_config

        config = recipe_config(
            pairs, dev, dictionary, work, max_steps=max_steps, lr=lr, stop_after=stop_after,
            model=str(start_from) if start_from else None, base=base, seed=seed,
        )  # fmt: skip
        try:
            trainer = TopLayersTrainer(config, top_layers, resume=resume)
        except ValueError as error:  # InputError included: bad input stops before any step
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=2) from error
        summary = trainer.fit()
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        if export and summary["steps"] == summary["planned_steps"]:
            recipe = {"top_layers": top_layers, "steps": summary["steps"], **asdict(config)}
            # file names only: no machine paths in the package
            for key in ("train", "dev", "dictionary", "output", "model"):
                recipe[key] = Path(recipe[key]).name if recipe[key] else None
            written = export_delta(work / "model", RECIPE["model"], trainer.trained_names, delta_dir, recipe=recipe)
            typer.echo(f"wrote {written}")
