"""Markdown reports with tables and matplotlib plots: what a reader sees of a benchmark run.

Every report starts with the machine facts and the command that produced it, and names the hit convention of
each accuracy number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from benchmarks.accuracy import AccuracyRow, AccuracyRun
from benchmarks.index_speed import IndexResult
from benchmarks.metrics import CONVENTIONS, MRR_DEPTH, hit_rank
from benchmarks.testsets import Suite
from corpora.queries import Query
from linker.index import Candidate


def short_system(name: str) -> str:
    """Return a system name fit for a table header: a model folder's last part, a hybrid's model likewise."""
    prefix, _, rest = name.rpartition(":") if name.startswith("hybrid:") else ("", "", name)
    tail = Path(rest).name if ("/" in rest or "\\" in rest) else rest
    return f"{prefix}:{tail}" if prefix else tail


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a GitHub Markdown table (floats with 3 decimals)."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "–" if math.isnan(value) else f"{value:.3f}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def facts_markdown(facts: dict[str, str]) -> str:
    """Return the machine facts as a two-column table."""
    return markdown_table(
        ("fact", "value"), [(key, f"`{value}`" if key == "command" else value) for key, value in facts.items()]
    )


def accuracy_markdown(run: AccuracyRun, suite: Suite) -> str:
    """Return the accuracy section: one table per hit convention, the test sets and the dev-chosen weights."""
    systems = list(dict.fromkeys(row.system for row in run.rows))
    sets = list(dict.fromkeys(row.test_set for row in run.rows))
    index = {(row.test_set, row.system, row.convention): row for row in run.rows}
    parts = []
    for convention, meaning in CONVENTIONS.items():
        header = ["test set", "queries"] + [f"{short_system(system)} acc@1 / acc@5 / MRR" for system in systems]
        rows = []
        for name in sets:
            first = index[(name, systems[0], convention)]
            cells = [name, first.queries]
            for system in systems:
                row = index[(name, system, convention)]
                cells.append(f"{row.acc1:.3f} / {row.acc5:.3f} / {row.mrr:.3f}")
            rows.append(cells)
        parts.append(
            f"### Hit convention `{convention}`: {meaning}\n\nMRR counts the first hit within the top "
            f"{MRR_DEPTH}.\n\n{markdown_table(header, rows)}"
        )
    set_rows = [
        (test_set.name, test_set.group, test_set.description, ", ".join(f"{k} {v}" for k, v in test_set.counts.items()))
        for test_set in suite.sets
    ]
    set_rows += [(name, "", f"not built: {reason}", "") for name, reason in suite.empty.items()]
    parts.append(
        "### Test sets\n\n"
        + "".join(f"{note}\n\n" for note in suite.notes)
        + markdown_table(("set", "group", "what it measures", "counts"), set_rows)
    )
    if run.weights:
        weight_rows = [
            (
                f"hybrid:{short_system(model)}",
                f"{choice.weight:.1f}",
                choice.dev_queries,
                " ".join(f"{weight:.1f}:{acc:.3f}" for weight, acc in choice.dev_acc1.items()),
            )
            for model, choice in run.weights.items()
        ]
        parts.append(
            "### Hybrid weights (chosen on the dev queries only, exact-code acc@1; never on a test set)\n\n"
            + markdown_table(("system", "dense weight", "dev queries", "dev acc@1 by weight"), weight_rows)
        )
    timing = [(short_system(system), f"{seconds:.1f}") for system, seconds in run.build_seconds.items()]
    parts.append(
        "### Dictionary build time per system (all dictionaries of the run, seconds; encoder vectors come from the"
        " benchmark vector cache where an earlier run saved them, so this is not an encoding speed)\n\n"
        + markdown_table(("system", "seconds"), timing)
    )
    return "\n\n".join(parts)


def accuracy_plot(rows: Sequence[AccuracyRow], path: Path, convention: str = "code") -> Path:
    """Draw acc@1 per system (bars) and test set (groups) under ``convention`` into a PNG; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [row for row in rows if row.convention == convention]
    systems = list(dict.fromkeys(row.system for row in chosen))
    sets = list(dict.fromkeys(row.test_set for row in chosen))
    values = {(row.test_set, row.system): row.acc1 for row in chosen}
    width = 0.8 / max(len(systems), 1)
    figure, axes = plt.subplots(figsize=(max(6.0, 1.1 * len(sets) + 2), 4.2))
    for offset, system in enumerate(systems):
        positions = [i + offset * width - 0.4 + width / 2 for i in range(len(sets))]
        axes.bar(positions, [values[(name, system)] for name in sets], width, label=short_system(system))
    axes.set_xticks(range(len(sets)), sets, rotation=35, ha="right")
    axes.set_ylim(0, 1)
    axes.set_ylabel(f"acc@1 ({convention} convention)")
    axes.set_title(f"acc@1 per system and test set — hit convention '{convention}'")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def index_markdown(results: Sequence[IndexResult]) -> str:
    """Return the index trade-off table (build, size, queries/second at batch 1 and batch, recall@10)."""
    rows = [
        (
            r.dictionary,
            r.kind,
            f"{r.names:,}",
            r.dim,
            f"{r.build_seconds:.2f}",
            f"{r.size_mb:.1f}",
            f"{r.qps_single:,.0f}",
            f"{r.qps_batch:,.0f}",
            r.recall_at_10,
            f"{r.peak_rss_mb:,.0f}",
            r.note,
        )
        for r in results
    ]
    header = (
        "dictionary",
        "index",
        "names",
        "dim",
        "build s",
        "size MB",
        "q/s batch 1",
        "q/s batched",
        "recall@10 vs exact",
        "process peak RSS MB",
        "note",
    )
    return markdown_table(header, rows)


def index_plot(results: Sequence[IndexResult], path: Path) -> Path:
    """Draw batched queries/second against recall@10 per index kind and dictionary into a PNG; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for dictionary in dict.fromkeys(r.dictionary for r in results):
        chosen = [r for r in results if r.dictionary == dictionary and not r.note]
        left.scatter([r.recall_at_10 for r in chosen], [r.qps_batch for r in chosen], label=dictionary)
        for r in chosen:
            left.annotate(r.kind, (r.recall_at_10, r.qps_batch), fontsize=8)
        right.bar([f"{r.kind} ({r.names:,})" for r in chosen], [r.build_seconds for r in chosen], label=dictionary)
    left.set_xlabel("recall@10 vs exact search")
    left.set_ylabel("queries / second (batched)")
    left.set_yscale("log")
    left.legend(fontsize=8)
    left.set_title("search speed vs recall")
    right.set_ylabel("build seconds")
    right.set_yscale("log")
    right.set_title("index build time")
    right.tick_params(axis="x", labelsize=7, labelrotation=30)
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_report(path: Path, title: str, facts: dict[str, str], sections: Sequence[tuple[str, str]]) -> Path:
    """Write a Markdown report: title, machine facts, then each (heading, body) section; return its path."""
    from corpora.files import atomic_file

    body = [
        f"# {title}",
        "",
        "Generated by the benchmarks stage; regenerate with the command in the facts below.",
        "",
        "## Machine and command",
        "",
        facts_markdown(facts),
    ]
    for heading, text in sections:
        body += ["", f"## {heading}", "", text]
    with atomic_file(path, "w") as handle:
        handle.write("\n".join(body) + "\n")
    return path


def answers_markdown(queries: Sequence[Query], answers: dict[str, list[Candidate | None]]) -> str:
    """Return a table of each query, its gold codes and every system's first answer (✓ exact-code hit)."""
    systems = list(answers)
    rows = []
    for index, query in enumerate(queries):
        cells: list[object] = [query.mention, " ".join(query.codes[:3]) + (" …" if len(query.codes) > 3 else "")]
        for system in systems:
            answer = answers[system][index]
            if answer is None:
                cells.append("—")
            else:
                mark = "✓ " if hit_rank([answer.code], query.codes) == 1 else ""
                cells.append(f"{mark}{answer.code} {answer.name}")
        rows.append(cells)
    return markdown_table(["mention", "gold", *(short_system(system) for system in systems)], rows)
