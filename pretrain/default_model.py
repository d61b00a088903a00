"""The shipped default model ``sapbert-ko-en-small``: a small fp16 delta over the offline base, applied at run time.

The package carries only the tensors training changed (``default_model/delta.safetensors``) and their metadata
(``default_model/delta.json``: the base's short name and :meth:`Encoder.fingerprint`, the encoder settings, the
delta's SHA-256, the recipe). :func:`ensure_default_model` loads the base, refuses it when its fingerprint is not
the one the delta was trained on, overwrites the delta's tensors and writes the complete Hugging Face folder once,
atomically, into the user cache; later calls return that folder.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch

from corpora.errors import InputError
from corpora.files import atomic_dir, user_cache_dir
from pretrain.encoder import SHIPPED_DELTA, SHIPPED_MODEL, Encoder, EncoderSettings, resolve_model_path

DELTA_FILE = SHIPPED_DELTA.name
METADATA_FILE = "delta.json"
BUILD_FILE = "sapbert_default_model.json"  # in the built folder: which delta it was built from


def package_delta_dir() -> Path:
    """Return the package folder holding the shipped delta, its metadata and the model card."""
    return SHIPPED_DELTA.parent


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file (the delta's identity)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_metadata(delta_dir: Path) -> dict:
    """Return the delta's metadata, checking that the weights file exists and is the one the metadata names."""
    metadata_path, weights = delta_dir / METADATA_FILE, delta_dir / DELTA_FILE
    if not metadata_path.is_file() or not weights.is_file():
        raise InputError(delta_dir, f"no default-model delta here: expected {DELTA_FILE} and {METADATA_FILE}")
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    if file_sha256(weights) != metadata["delta_sha256"]:
        raise InputError(weights, "the delta's SHA-256 does not match delta.json: the weights file was changed")
    return metadata


def load_base(name_or_path: str | Path) -> Encoder:
    """Load the base on CPU with a fixed seed, so layers its folder lacks (a pooler) and its fingerprint are stable."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return Encoder.from_pretrained(name_or_path, device="cpu")


def export_delta(
    trained: str | Path, base: str, names: list[str], delta_dir: Path | None = None, recipe: dict | None = None
) -> Path:
    """Write fp16 copies of the trained tensors ``names`` of model folder ``trained`` as a delta over ``base``.

    Returns the delta folder (default: the package's). Every other tensor must equal the base's (the unused pooler
    aside), so that base + delta is the trained model. The metadata records the base's fingerprint, so the delta
    is never applied to another base, and the trained model's encoder settings.
    """
    from safetensors.torch import save_file

    delta_dir = Path(delta_dir) if delta_dir else package_delta_dir()
    model = Encoder.from_pretrained(trained, device="cpu")
    base_encoder = load_base(base)
    state = model.model.state_dict()
    base_state = base_encoder.model.state_dict()
    missing = [
        name
        for name in names
        if name not in base_state or state.get(name, torch.empty(0)).shape != base_state[name].shape
    ]
    if missing:
        raise ValueError(f"tensors not in the trained model or shaped unlike the base: {', '.join(missing[:5])}")
    kept = set(names)
    differing = [
        name
        for name, tensor in base_state.items()
        if name not in kept and not name.startswith("pooler.") and not torch.equal(tensor, state.get(name, tensor))
    ]
    if differing:
        raise ValueError(
            f"the trained model differs from the base {base!r} outside the delta ({', '.join(differing[:3])}): "
            "the delta would not reproduce it (was it started from another model?)"
        )
    tensors = {name: state[name].detach().to(torch.float16).contiguous() for name in sorted(names)}
    delta_dir.mkdir(parents=True, exist_ok=True)
    weights = delta_dir / DELTA_FILE
    save_file(tensors, weights, metadata={"format": "pt"})
    metadata = {
        "name": SHIPPED_MODEL,
        "base": base,
        "base_fingerprint": base_encoder.fingerprint(),
        "settings": asdict(model.settings),
        "tensors": len(tensors),
        "parameters": sum(t.numel() for t in tensors.values()),
        "delta_sha256": file_sha256(weights),
        "recipe": recipe or {},
    }
    (delta_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return delta_dir


def apply_delta(model: torch.nn.Module, tensors: dict[str, torch.Tensor], source: Path) -> None:
    """Overwrite ``model``'s tensors with the delta's (cast to the model's dtype); refuse unknown or reshaped ones."""
    state = model.state_dict()
    for name, value in tensors.items():
        if name not in state or state[name].shape != value.shape:
            raise InputError(source, f"delta tensor {name!r} {tuple(value.shape)} does not fit the base model")
    with torch.no_grad():
        for name, value in tensors.items():
            state[name].copy_(value.to(state[name].dtype))


def ensure_default_model(delta_dir: Path | None = None, name: str = SHIPPED_MODEL) -> Path:
    """Return the folder of the default model, building it (base + delta) into the user cache on first use.

    A folder built from another delta (an older package) is rebuilt. InputError when the base is not the one the
    delta was trained on (its fingerprint differs) or the delta does not fit it.
    """
    from safetensors.torch import load_file

    delta_dir = Path(delta_dir) if delta_dir else package_delta_dir()
    metadata = read_metadata(delta_dir)
    target = user_cache_dir() / name
    built = target / BUILD_FILE
    if (
        built.is_file()
        and json.loads(built.read_text(encoding="utf-8")).get("delta_sha256") == metadata["delta_sha256"]
    ):
        return target
    base_path = resolve_model_path(metadata["base"])
    base = load_base(base_path)
    if base.fingerprint() != metadata["base_fingerprint"]:
        raise InputError(
            base_path,
            f"this base model (fingerprint {base.fingerprint()}) is not the one the {name} delta was trained on "
            f"({metadata['base_fingerprint']}); rebuild the base ({metadata['base']}) or re-train the delta",
        )
    apply_delta(base.model, load_file(delta_dir / DELTA_FILE), delta_dir / DELTA_FILE)
    base.settings = EncoderSettings(**metadata["settings"])
    with atomic_dir(target) as folder:
        base.save_pretrained(folder)
        record = {"name": name, "base": metadata["base"], "delta_sha256": metadata["delta_sha256"]}
        (folder / BUILD_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return target
