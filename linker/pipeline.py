"""The ready-made spaCy pipeline the commands use: the Kiwi tokenizer followed by ``sapbert_linker``."""

from __future__ import annotations

from pathlib import Path


def build_pipeline(
    *,
    model: str | None = None,
    index: str | Path | None = None,
    threshold: float | None = None,
    top_k: int = 5,
    mentions: list[str] | None = None,
    batch_size: int = 256,
):
    """Return ``spacy.blank("ko")`` with the Kiwi tokenizer and an initialised ``sapbert_linker``.

    ``model``/``index`` None mean the embedded default; ``threshold``/``mentions`` None keep the component's defaults.
    """
    import spacy

    nlp = spacy.blank("ko", config={"nlp": {"tokenizer": {"@tokenizers": "sapbert.KiwiTokenizer.v1"}}})
    config: dict = {"top_k": top_k, "batch_size": batch_size}
    if model is not None:
        config["model"] = str(model)
    if index is not None:
        config["index"] = str(index)
    if threshold is not None:
        config["threshold"] = threshold
    if mentions is not None:
        config["mentions"] = mentions
    nlp.add_pipe("sapbert_linker", config=config)
    nlp.initialize()
    return nlp
