"""linker stage: a FAISS dictionary index over a terminology, term normalisation, and the spaCy component.

``Linker(index_dir).normalize(["간경화", "T2DM"])`` maps isolated mentions to codes; the spaCy component
``sapbert_linker`` (in :mod:`linker.component`) finds and links mentions in running text.
"""

from linker.index import Candidate, DictionaryIndex
from linker.normalize import Linker

__all__ = ["Candidate", "DictionaryIndex", "Linker"]
