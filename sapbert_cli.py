"""The `sapbert` command: one typer application that gathers each stage's sub-commands.

The stages follow the data flow corpora -> pretrain -> linker -> benchmarks; each owns its commands in its own
``cli.py`` and adds them here through ``register(app)``. Heavy libraries (torch, spaCy, FAISS) are imported inside
the commands, so ``sapbert --help`` stays instant.
"""

from __future__ import annotations

import typer

from benchmarks.cli import register as register_benchmarks
from corpora.cli import register as register_corpora
from linker.cli import register as register_linker
from pretrain.cli import register as register_pretrain

app = typer.Typer(
    name="sapbert",
    help=(
        "SapBERT-KO-EN: link Korean-English clinical text to medical codes (KCD/ICD-10, KOSTOM, UMLS...).\n\n"
        "Example: sapbert link --input notes.jsonl --output linked.jsonl"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
register_corpora(app)
register_pretrain(app)
register_linker(app)
register_benchmarks(app)


def main() -> None:
    """Run the `sapbert` command line (the console-script entry point)."""
    app()


if __name__ == "__main__":
    main()
