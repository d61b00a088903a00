"""The spaCy component ``sapbert_linker``: find medical mentions in a Doc and link each to a code.

    nlp = spacy.blank("ko", config={"nlp": {"tokenizer": {"@tokenizers": "sapbert.KiwiTokenizer.v1"}}})
    nlp.add_pipe("sapbert_linker")                        # the embedded default (KCD, default encoder)
    nlp.add_pipe("sapbert_linker", config={"model": "path/to/model", "index": "path/to/index",
                                           "threshold": 0.9, "top_k": 5})

``threshold`` is the score a phrase proposed from tokens must reach to be kept; None (the default) uses the
index's calibrated threshold (:mod:`linker.calibration`), which suits its model and dictionary. A proposal that
contains a dictionary name found in the text replaces it when it clears the threshold and links to another code:
"제2형 당뇨병" (E11) rather than the 당뇨병 (E14) inside it, but "두통 호소" (R51 too) never replaces 두통.
With ``skip_common_words`` (default), words of notes that name no concept (``linker/data/non_mentions.txt``: 상기
"above", 관찰 "observation", admission...) are never mentions, even where the dictionary has them as names (KCD
lists 상기 and 하기 as Korean-medicine codes).

Results: ``doc.ents`` (label = concept type, else source), ``span.kb_id_`` (best code), ``span._.kb_ents``
(``[(code, score), ...]`` best first, as in scispaCy), ``span._.concept_name`` (the best code's matched name),
``span._.sapbert_candidates`` (the :class:`~linker.index.Candidate` list) and every candidate span, overlapping
ones included, in ``doc.spans["sapbert"]``. ``nlp.pipe`` encodes the mentions of a whole batch of documents at once.

The config only names the model and index; ``to_disk`` stores the index (and a local model) inside the saved
pipeline, and ``from_disk`` loads them from there, so a saved pipeline does not depend on the original paths.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from linker.calibration import non_mentions
from linker.gazetteer import Gazetteer, normalise_name
from linker.mentions import SOURCES, Mention, gazetteer_mentions, token_proposals, upstream_mentions
from linker.spans import split_at

SPAN_GROUP = "sapbert"
STATE_FILE = "sapbert_linker.json"
RECENT_QUERIES = 100_000  # query -> candidates kept across batches: clinical notes repeat most of their phrases
for _name in ("kb_ents", "concept_name", "sapbert_candidates"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=None)


class SapbertLinker:
    """Detects mentions (dictionary names, token proposals or upstream entities) and links them by dense search."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        model: str | None,
        index: str | None,
        threshold: float | None,
        top_k: int,
        mentions: list[str],
        max_words: int,
        batch_size: int,
        skip_common_words: bool = True,
    ) -> None:
        unknown = sorted(set(mentions) - set(SOURCES))
        if unknown or not mentions:
            raise ValueError(f"mentions must be a non-empty list of {', '.join(SOURCES)}; got {mentions}")
        self.name = name
        self.model = model
        self.index_reference = index
        self.threshold = threshold
        self.top_k = top_k
        self.mentions = list(mentions)
        self.max_words = max_words
        self.skip_common_words = skip_common_words
        self._common_words: frozenset[str] = frozenset()
        self.batch_size = batch_size
        self.index = None
        self.gazetteer = None
        self.labels: dict[str, str] = {}
        self._recent: OrderedDict[str, list] = OrderedDict()

    def initialize(self, get_examples=None, *, nlp: Language | None = None) -> None:
        """Load the model and index the config names (building the default index on first use)."""
        self._ensure_loaded()

    def use_index(self, index) -> None:
        """Link against ``index`` (a :class:`~linker.index.DictionaryIndex` with its encoder) from now on."""
        self.index = index
        self._recent.clear()
        self._common_words = (
            frozenset(normalise_name(word) for word in non_mentions()) if self.skip_common_words else frozenset()
        )
        self.gazetteer = Gazetteer(index.names["name"]) if "gazetteer" in self.mentions else None
        self.labels = index.concept_labels()

    @property
    def proposal_threshold(self) -> float:
        """The score proposals must reach: the configured threshold, else the index's calibrated one."""
        self._ensure_loaded()
        return self.threshold if self.threshold is not None else self.index.proposal_threshold

    def _ensure_loaded(self) -> None:
        if self.index is not None:
            return
        from linker.default import resolve_index

        self.use_index(resolve_index(self.model, self.index_reference))

    def __call__(self, doc: Doc) -> Doc:
        """Link the mentions of one document."""
        return self._link_batch([doc])[0]

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        """Link a stream of documents, encoding the mentions of ``batch_size`` documents in one go."""
        for batch in minibatch(stream, size=batch_size):
            yield from self._link_batch(list(batch))

    def _link_batch(self, docs: list[Doc]) -> list[Doc]:
        self._ensure_loaded()
        found = [self._detect(doc) for doc in docs]
        queries = {mention.query for mentions in found for mention in mentions}
        results = self._search(sorted(queries))
        for doc, mentions in zip(docs, found, strict=True):
            self._annotate(doc, mentions, results)
        return docs

    def _search(self, queries: list[str]) -> dict[str, list]:
        """Return each query's candidates, encoding only queries not seen recently (notes repeat many phrases)."""
        new = [query for query in queries if query not in self._recent]
        for query, candidates in zip(new, self.index.search(new, self.top_k, self.batch_size), strict=True):
            self._recent[query] = candidates
        results = {}
        for query in queries:
            self._recent.move_to_end(query)
            results[query] = self._recent[query]
        while len(self._recent) > RECENT_QUERIES:
            self._recent.popitem(last=False)
        return results

    def _detect(self, doc: Doc) -> list[Mention]:
        mentions: list[Mention] = []
        if "ents" in self.mentions:
            mentions += upstream_mentions(doc)
        if self.gazetteer is not None:
            mentions += gazetteer_mentions(doc, self.gazetteer)
        if "proposals" in self.mentions:
            mentions += token_proposals(doc, self.max_words)
        if not self._common_words:
            return mentions
        text = doc.text  # spaCy joins the tokens on every access
        return [
            m for m in mentions if m.source == "ents" or normalise_name(text[m.start : m.end]) not in self._common_words
        ]

    def _annotate(self, doc: Doc, mentions: list[Mention], results: dict) -> None:
        """Choose non-overlapping mentions, split tokens at their edges, and write ents, spans and extensions."""
        threshold = self.proposal_threshold
        fixed = {(m.start, m.end) for m in mentions if m.source != "proposals"}
        kept = [
            m
            for m in mentions
            if m.source != "proposals" or ((m.start, m.end) not in fixed and _best_score(results[m.query]) >= threshold)
        ]
        chosen = resolve_overlaps(kept, results, doc.text)
        split_at(doc, [offset for mention in kept for offset in (mention.start, mention.end)])
        group = []
        linked = []
        for mention in kept:
            span = self._span(doc, mention, results[mention.query], threshold)
            if span is None:
                continue
            group.append(span)
            if mention in chosen:
                linked.append(span)
        taken = {i for span in linked for i in range(span.start, span.end)}
        others = [ent for ent in doc.ents if not taken.intersection(range(ent.start, ent.end))]
        doc.ents = sorted(others + linked, key=lambda span: span.start)
        doc.spans[SPAN_GROUP] = group

    def _span(self, doc: Doc, mention: Mention, candidates: list, threshold: float) -> Span | None:
        trusted = mention.source == "gazetteer" or _best_score(candidates) >= threshold
        best = candidates[0] if candidates and trusted else None
        label = mention.label or (self.labels.get(best.code, "CONCEPT") if best else "CONCEPT")
        span = doc.char_span(mention.start, mention.end, label=label, kb_id=best.code if best else "")
        if span is None:
            return None
        span._.kb_ents = [(candidate.code, candidate.score) for candidate in candidates]
        span._.concept_name = best.name if best else None
        span._.sapbert_candidates = list(candidates)
        return span

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Store the index (and the model, when it is a local folder) inside the saved pipeline."""
        self._ensure_loaded()
        target = Path(path)
        target.mkdir(parents=True, exist_ok=True)
        model = self.index.meta["model"]
        local_model = Path(model).is_dir()
        if local_model:
            self.index.encoder.save_pretrained(target / "model")
        self.index.save(target / "index")
        state = {"model": model, "model_saved": local_model}
        (target / STATE_FILE).write_text(json.dumps(state, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> SapbertLinker:
        """Load the index and model stored by :meth:`to_disk` (the config's paths are not used)."""
        from linker.index import DictionaryIndex, load_encoder

        source = Path(path)
        state = json.loads((source / STATE_FILE).read_text(encoding="utf-8"))
        encoder = load_encoder(source / "model" if state["model_saved"] else state["model"])
        self.use_index(DictionaryIndex.load(source / "index", encoder))
        return self


def _best_score(candidates: list) -> float:
    return candidates[0].score if candidates else float("-inf")


def resolve_overlaps(mentions: list[Mention], results: dict, text: str) -> set[Mention]:
    """Return the mentions to link, never overlapping: upstream entities and dictionary names first, then proposals
    by descending score; a proposal that names a more specific concept than the dictionary name inside it
    (:func:`_replaces_names`) goes before that name."""
    priority = {"ents": 0, "gazetteer": 2, "proposals": 3}
    names = [m for m in mentions if m.source == "gazetteer"]
    ordered = sorted(
        mentions,
        key=lambda m: (
            1 if m.source == "proposals" and _replaces_names(m, names, results, text) else priority[m.source],
            -_best_score(results[m.query]),
            -(m.end - m.start),
            m.start,
        ),
    )
    chosen: set[Mention] = set()
    taken: set[int] = set()
    for mention in ordered:
        covered = range(mention.start, mention.end)
        if taken.isdisjoint(covered):
            chosen.add(mention)
            taken.update(covered)
    return chosen


def _replaces_names(proposal: Mention, names: list[Mention], results: dict, text: str) -> bool:
    """Return True when ``proposal`` adds whole words to the one dictionary-name mention inside it and links to
    another code: it names a more specific concept ("제2형 당뇨병" -> E11 over the 당뇨병 -> E14 inside it), while a
    particle glued to a name ("간경화가"), a same-code phrase ("두통 호소") or a phrase joining two names never wins."""
    inside = [m for m in names if proposal.start <= m.start and m.end <= proposal.end and m != proposal]
    best = results[proposal.query][:1]
    if len(inside) != 1 or not best:
        return False
    name = inside[0]
    more_words = len(text[proposal.start : proposal.end].split()) > len(text[name.start : name.end].split())
    return more_words and best[0].code != _best_code(results[name.query])


def _best_code(candidates: list) -> str | None:
    return candidates[0].code if candidates else None


@Language.factory(
    "sapbert_linker",
    default_config={
        "model": None,
        "index": None,
        "threshold": None,
        "top_k": 5,
        "mentions": ["gazetteer", "proposals"],
        "max_words": 3,
        "batch_size": 256,
        "skip_common_words": True,
    },
)
def make_sapbert_linker(
    nlp: Language,
    name: str,
    model: str | None,
    index: str | None,
    threshold: float | None,
    top_k: int,
    mentions: list[str],
    max_words: int,
    batch_size: int,
    skip_common_words: bool,
) -> SapbertLinker:
    """Create the ``sapbert_linker`` component (spaCy calls this; config keys as in the module docstring)."""
    return SapbertLinker(
        nlp,
        name,
        model=model,
        index=index,
        threshold=threshold,
        top_k=top_k,
        mentions=mentions,
        max_words=max_words,
        batch_size=batch_size,
        skip_common_words=skip_common_words,
    )
