"""Command-line commands of the linker stage: ``index build``, ``normalize`` and ``link``.

spaCy, FAISS and torch are imported inside the commands so ``sapbert --help`` stays instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from corpora.cli_support import fail_on_input_error

index_app = typer.Typer(
    help="Build dictionary indexes (a terminology encoded with a model, searchable with FAISS).",
    no_args_is_help=True,
)

MODEL_HELP = "Model folder or name (default: the index's own model, or the embedded default model)."
INDEX_HELP = "Index folder from `sapbert index build` (default: the embedded default, built on first use)."


@index_app.command("build")
@fail_on_input_error
def build_index(
    model: Annotated[str, typer.Option("--model", help="Model folder, hub name, or e5-small-offline.")],
    terminology: Annotated[Path, typer.Option("--terminology", help="Concept table (.parquet, .tsv, .tsv.gz).")],
    out: Annotated[Path, typer.Option("--out", help="Index folder to write (replaced atomically).")],
    kind: Annotated[str, typer.Option("--kind", help="flat (exact), hnsw or ivfpq (millions of names).")] = "flat",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Names encoded per batch.")] = 256,
) -> None:
    """Encode every name of a concept table and save a FAISS index with its names and metadata.

    Example: sapbert index build --model e5-small-offline --terminology kcd.parquet --out indexes/kcd
    """
    from corpora.table import read_concepts
    from linker.index import DictionaryIndex, load_encoder

    concepts = read_concepts(terminology)
    encoder = load_encoder(model)
    index = DictionaryIndex.build(
        encoder,
        concepts,
        kind=kind,
        batch_size=batch_size,
        show_progress=True,
        model_name=model,
        terminology=str(terminology.resolve()),
    )
    index.save(out)
    typer.echo(
        f"indexed {index.meta['names']:,} names of {index.meta['codes']:,} codes ({kind}) into {out};"
        f" calibrated proposal threshold {index.proposal_threshold:.2f}"
    )


@fail_on_input_error
def normalize(
    terms: Annotated[list[str] | None, typer.Argument(help="Mentions to normalise (or use --input).")] = None,
    input_file: Annotated[Path | None, typer.Option("--input", help="Text file, one mention per line.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL file to write (default: standard output).")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", help="Codes per mention.")] = 5,
    model: Annotated[str | None, typer.Option("--model", help=MODEL_HELP)] = None,
    index: Annotated[Path | None, typer.Option("--index", help=INDEX_HELP)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Mentions encoded per batch.")] = 256,
) -> None:
    """Map isolated mentions to their top-k codes: one JSON object per mention, in input order.

    Output: {"mention": "간경화", "candidates": [{"code": "K74.6", "name": "...", "score": 0.83}, ...]}

    Example: sapbert normalize 간경화 T2DM "hepatocellular carcinoma"

    Example: sapbert normalize --input mentions.txt --output out.jsonl --top-k 5
    """
    from linker.default import resolve_index

    mentions = list(terms or [])
    empty_lines = []
    if input_file is not None:
        if not input_file.is_file():
            raise FileNotFoundError(f"{input_file}: input not found (expected a text file, one mention per line)")
        for number, line in enumerate(input_file.read_text(encoding="utf-8").splitlines(), start=1):
            mentions.append(line.strip())
            if not line.strip():
                empty_lines.append(number)
    if not mentions:
        raise typer.BadParameter("give mentions as arguments or with --input")
    present = [mention for mention in mentions if mention]
    found = iter(resolve_index(model, index).search(present, top_k, batch_size=batch_size))
    linked = [next(found) if mention else [] for mention in mentions]
    lines = (
        json.dumps(
            {
                "mention": mention,
                "candidates": [{"code": c.code, "name": c.name, "score": round(c.score, 4)} for c in candidates],
            },
            ensure_ascii=False,
        )
        for mention, candidates in zip(mentions, linked, strict=True)
    )
    _write_lines(lines, output)
    if empty_lines:
        shown = ", ".join(map(str, empty_lines[:10]))
        typer.echo(
            f"warning: {len(empty_lines)} empty line(s) in {input_file} given no candidates: line {shown}", err=True
        )


@fail_on_input_error
def link(
    input_path: Annotated[
        Path | None, typer.Option("--input", help="Notes: .jsonl, a text file (one note a line) or a folder.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="Link this one note and print a table.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL file to write (default: standard output).")
    ] = None,
    text_field: Annotated[str, typer.Option("--text-field", help="JSONL field holding the note text.")] = "text",
    id_field: Annotated[
        str, typer.Option("--id-field", help="JSONL field holding the note id (else line number).")
    ] = "id",
    top_k: Annotated[int, typer.Option("--top-k", help="Candidate codes kept per mention.")] = 5,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Minimum score for mentions proposed from tokens (default: the index's calibrated threshold).",
        ),
    ] = None,
    mentions: str = typer.Option("gazetteer,proposals", "--mentions", help="Comma list of gazetteer, proposals."),
    model: Annotated[str | None, typer.Option("--model", help=MODEL_HELP)] = None,
    index: Annotated[Path | None, typer.Option("--index", help=INDEX_HELP)] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Notes linked per encoder call.")] = 32,
    as_json: Annotated[
        bool, typer.Option("--json", help="With --text: print the JSON record instead of a table.")
    ] = False,
) -> None:
    """Find and link the medical mentions of clinical notes; one JSON object per note, in input order.

    Output: {"id": ..., "entities": [{"start", "end", "text", "label", "code", "name", "score", "candidates"}]}

    Example: sapbert link --text "최근 간경화가 악화되어 입원함. r/o HCC."

    Example: sapbert link --input notes.jsonl --text-field text --output linked.jsonl
    """
    from linker.notes import entity_table, link_texts, read_notes
    from linker.pipeline import build_pipeline

    if (input_path is None) == (text is None):
        raise typer.BadParameter("give exactly one of --input or --text")
    nlp = build_pipeline(
        model=model,
        index=index,
        threshold=threshold,
        top_k=top_k,
        mentions=[part.strip() for part in mentions.split(",") if part.strip()],
    )
    if text is not None:
        entities = next(link_texts(nlp, [text], batch_size))
        record = {"text": text, "entities": entities}
        typer.echo(json.dumps(record, ensure_ascii=False) if as_json else entity_table(text, entities))
        return
    from tqdm.auto import tqdm

    notes = read_notes(input_path, text_field=text_field, id_field=id_field)
    for error in notes.errors:
        typer.echo(f"warning: skipped {error}", err=True)
    progress = tqdm(total=len(notes.texts), desc="linking", unit="note", file=sys.stderr)
    lines = []
    for note_id, entities in zip(notes.ids, link_texts(nlp, notes.texts, batch_size), strict=True):
        lines.append(json.dumps({"id": note_id, "entities": entities}, ensure_ascii=False))
        progress.update()
    progress.close()
    _write_lines(lines, output)
    skipped = f"; skipped {len(notes.errors)} bad line(s), listed above" if notes.errors else ""
    typer.echo(f"linked {len(notes.texts):,} notes{skipped}", err=True)


def _write_lines(lines, output: Path | None) -> None:
    """Write JSON lines to ``output`` atomically (nothing appears unless all succeed), or to standard output."""
    if output is None:
        for line in lines:
            typer.echo(line)
        return
    from corpora.files import atomic_file

    with atomic_file(output) as handle:
        for line in lines:
            handle.write(line + "\n")


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root `sapbert` application."""
    app.add_typer(index_app, name="index")
    app.command("normalize")(normalize)
    app.command("link")(link)
