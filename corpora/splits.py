"""Held-out evaluation splits of a concept table, so pretraining can be evaluated on names it never saw.

Names are compared by a *match key*: NFKC, case-folded, with spaces and punctuation removed (``"Cirrhosis, liver"``
and ``"cirrhosis liver"`` share one key). A code's names with one key form a *name group*; a group is held out
or kept as a whole, so a held-out query is never an exact (normalised) duplicate of a name its code keeps.
Only groups whose key belongs to one code in the whole table are held out, so a query's gold code is unambiguous.

- **term level**: from randomly chosen codes with at least two groups, one non-preferred group each (a preferred
  one where the code has no other) goes to dev or test. Training table = dictionary = the table without the
  held-out names.
- **concept level**: randomly chosen codes with at least two groups are held out whole from the training table;
  in the evaluation dictionary they keep their preferred-name groups (the first group if all are non-preferred)
  and their other eligible groups become the queries.

Dev and test never share a code, so no (mention, code) is in both.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field

import pandas as pd

from corpora.queries import Query

LEVELS = ("term", "concept")
_NON_WORD = re.compile(r"[\W_]+")


def match_key(name: str) -> str:
    """Return the key under which two names count as the same string (NFKC, case-folded, no spaces/punctuation)."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", name).casefold())


@dataclass
class Split:
    """A split: the table to train on, the dictionary to evaluate against, dev/test queries, and counts."""

    train: pd.DataFrame
    dictionary: pd.DataFrame
    dev: list[Query]
    test: list[Query]
    counts: dict[str, int] = field(default_factory=dict)


def _name_groups(table: pd.DataFrame) -> tuple[dict[str, list[tuple[str, list[int], bool]]], set[str]]:
    """Per code, its name groups in table order as ``(key, row indices, has a preferred name)``; and shared keys."""
    per_code: dict[str, dict[str, tuple[list[int], list[bool]]]] = {}
    codes_of_key: dict[str, set[str]] = {}
    for index, code, name, term_type in zip(table.index, table["code"], table["name"], table["term_type"], strict=True):
        key = match_key(name)
        rows, preferred = per_code.setdefault(code, {}).setdefault(key, ([], []))
        rows.append(index)
        preferred.append(term_type == "preferred")
        codes_of_key.setdefault(key, set()).add(code)
    groups = {
        code: [(key, rows, any(preferred)) for key, (rows, preferred) in keys.items()]
        for code, keys in per_code.items()
    }
    shared = {key for key, codes in codes_of_key.items() if len(codes) > 1}
    return groups, shared


def split_table(
    table: pd.DataFrame, *, level: str = "term", dev_size: int = 500, test_size: int = 500, seed: int = 42
) -> Split:
    """Return a split of ``table``; ``dev_size``/``test_size`` count held-out codes (each gives >= 1 query)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    if dev_size < 0 or test_size < 0:
        raise ValueError("dev_size and test_size must not be negative")
    table = table.reset_index(drop=True)
    all_groups, shared = _name_groups(table)
    candidates = {code: groups for code, groups in all_groups.items() if len(groups) >= 2}
    rng = random.Random(seed)
    codes = sorted(candidates)
    rng.shuffle(codes)
    held_rows: set[int] = set()
    removed_codes: set[str] = set()
    queries: dict[str, list[Query]] = {"dev": [], "test": []}
    wanted = {"dev": dev_size, "test": test_size}
    taken = {"dev": 0, "test": 0}
    for code in codes:
        part = "dev" if taken["dev"] < wanted["dev"] else "test" if taken["test"] < wanted["test"] else None
        if part is None:
            break
        groups = candidates[code]
        preferred = [has_preferred for _key, _rows, has_preferred in groups]
        if level == "term":
            order = [i for i in range(len(groups)) if not preferred[i]] or list(range(1, len(groups)))
            eligible = [i for i in order if groups[i][0] not in shared]
            chosen = [rng.choice(eligible)] if eligible else []
        else:
            kept = [i for i in range(len(groups)) if preferred[i]] or [0]
            if len(kept) == len(groups):
                kept = [0]
            chosen = [i for i in range(len(groups)) if i not in kept and groups[i][0] not in shared]
        if not chosen:
            continue
        for index in chosen:
            rows = groups[index][1]
            held_rows.update(rows)
            queries[part].append(Query(str(table.at[rows[0], "name"]), (code,)))
        if level == "concept":
            removed_codes.add(code)
        taken[part] += 1
    dictionary = table.drop(index=sorted(held_rows)).reset_index(drop=True)
    train = dictionary[~dictionary["code"].isin(removed_codes)].reset_index(drop=True)
    counts = {
        "dev codes": taken["dev"],
        "test codes": taken["test"],
        "dev queries": len(queries["dev"]),
        "test queries": len(queries["test"]),
        "held-out names": len(held_rows),
        "codes held out of training": len(removed_codes),
        "training names": len(train),
        "dictionary names": len(dictionary),
    }
    return Split(train, dictionary, queries["dev"], queries["test"], counts)
