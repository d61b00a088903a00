"""The shipped default model: delta export, verified application over the right base, atomic cached build."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel

import pretrain.default_model as default_model
from corpora.errors import InputError
from pretrain.default_model import BUILD_FILE, DELTA_FILE, METADATA_FILE, ensure_default_model, export_delta
from pretrain.encoder import SHIPPED_MODEL, Encoder, EncoderSettings
from pretrain.retrain_default import TopLayersTrainer, freeze_below_top, recipe_config
from tests.tiny_models import build_tiny_bert

TEXTS = ["간경화", "liver cirrhosis", "간암", "brain tumor"]


def fine_tune_top_layer(base: Path, folder: Path, seed: int = 1) -> list[str]:
    """Save a copy of ``base`` whose top layer is changed (and settings differ); return the changed tensors."""
    encoder = Encoder.from_pretrained(base, device="cpu")
    names = freeze_below_top(encoder.model, 1)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in encoder.model.named_parameters():
            if name in names:
                parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    encoder.settings = EncoderSettings(pooling="mean", max_length=20, prefix="query: ")
    encoder.save_pretrained(folder)
    return names


@pytest.fixture(params=["tiny_bert", "tiny_xlmr"])
def tiny_delta(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A fine-tuned tiny model and its exported delta over the tiny base: (trained folder, delta folder, names)."""
    base = request.getfixturevalue(request.param)
    trained = tmp_path / "trained"
    names = fine_tune_top_layer(base, trained)
    return trained, export_delta(trained, str(base), names, tmp_path / "delta", recipe={"top_layers": 1}), names


def test_delta_holds_only_the_trained_tensors_in_fp16(tiny_delta):
    _, delta, names = tiny_delta
    tensors = load_file(delta / DELTA_FILE)
    assert sorted(tensors) == sorted(names)
    assert all(".layer.1." in name for name in tensors)
    assert {tensor.dtype for tensor in tensors.values()} == {torch.float16}
    metadata = json.loads((delta / METADATA_FILE).read_text(encoding="utf-8"))
    assert metadata["settings"] == {"pooling": "mean", "max_length": 20, "prefix": "query: "}
    assert metadata["parameters"] == sum(tensor.numel() for tensor in tensors.values())


def test_built_model_equals_the_trained_one_up_to_fp16(tiny_delta):
    trained, delta, names = tiny_delta
    folder = ensure_default_model(delta)
    built = AutoModel.from_pretrained(folder).state_dict()
    reference = AutoModel.from_pretrained(trained).state_dict()
    for name, tensor in reference.items():
        if name.startswith("pooler."):  # not in the tiny base's folder: random per load, and pooling never reads it
            continue
        tolerance = 1e-3 if name in names else 0.0
        assert torch.allclose(built[name], tensor, atol=tolerance, rtol=tolerance), name
    encoder, expected = Encoder.from_pretrained(folder, device="cpu"), Encoder.from_pretrained(trained, device="cpu")
    assert encoder.settings == expected.settings
    similarity = np.sum(encoder.encode(TEXTS) * expected.encode(TEXTS), axis=1)
    assert similarity.min() > 0.999


def test_short_name_builds_once_and_is_reused(tiny_delta, monkeypatch):
    _, delta, _ = tiny_delta
    monkeypatch.setattr(default_model, "package_delta_dir", lambda: delta)
    encoder = Encoder.from_pretrained(SHIPPED_MODEL, device="cpu")
    assert encoder.encode(TEXTS).shape[0] == len(TEXTS)
    folder = ensure_default_model()
    stamp = (folder / BUILD_FILE).stat().st_mtime_ns

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the cached build should have been reused")

    monkeypatch.setattr(default_model, "apply_delta", no_rebuild)
    assert ensure_default_model() == folder
    assert (folder / BUILD_FILE).stat().st_mtime_ns == stamp


def test_refuses_a_base_other_than_the_one_trained_on(tmp_path):
    base = build_tiny_bert(tmp_path / "base", seed=0)
    names = fine_tune_top_layer(base, tmp_path / "trained")
    delta = export_delta(tmp_path / "trained", str(base), names, tmp_path / "delta")
    build_tiny_bert(tmp_path / "base", seed=7)  # the base changes under the delta
    with pytest.raises(InputError, match="not the one the"):
        ensure_default_model(delta)
    assert not (default_model.user_cache_dir() / SHIPPED_MODEL).exists()


def test_refuses_a_changed_weights_file(tiny_delta):
    _, delta, _ = tiny_delta
    with (delta / DELTA_FILE).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(InputError, match="SHA-256"):
        ensure_default_model(delta)


def test_failed_rebuild_keeps_the_previous_build(tiny_delta, tmp_path, monkeypatch):
    _, delta, names = tiny_delta
    folder = ensure_default_model(delta)
    before = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    base = json.loads((delta / METADATA_FILE).read_text(encoding="utf-8"))["base"]
    fine_tune_top_layer(Path(base), tmp_path / "retrained", seed=2)
    export_delta(tmp_path / "retrained", base, names, delta)

    def crash(self, target):
        (Path(target) / "partial").write_text("half written")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Encoder, "save_pretrained", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        ensure_default_model(delta)
    assert json.loads((folder / BUILD_FILE).read_text(encoding="utf-8")) == before
    assert sorted(path.name for path in folder.parent.iterdir()) == [SHIPPED_MODEL]


def write_tiny_training_data(folder: Path) -> tuple[Path, Path]:
    """Write a pair file (6 codes, Korean-English names) and dev queries; return both paths."""
    names = {
        "K74.6": ["간경화", "liver cirrhosis", "간경변증"],
        "C22.0": ["간암", "liver cancer", "간세포암"],
        "D33.2": ["뇌종양", "brain tumor", "양성 뇌종양"],
        "I10": ["고혈압", "hypertension", "본태성 고혈압"],
        "E11.9": ["당뇨병", "type 2 diabetes", "제2형 당뇨병"],
        "J45.9": ["천식", "asthma", "기관지 천식"],
    }
    rows = ["sent0\tsent1\tlabel"]
    for code, (korean, english, other) in names.items():
        rows += [f"{korean}\t{english}\t{code}", f"{other}\t{english}\t{code}"]
    pairs = folder / "pairs.tsv"
    pairs.write_text("\n".join(rows) + "\n", encoding="utf-8")
    dev = folder / "dev.tsv"
    dev.write_text("mention\tcode\n간경화증\tK74.6\n뇌의 종양\tD33.2\n", encoding="utf-8")
    return pairs, dev


def test_top_layers_training_changes_only_the_top_layers_and_exports_them(tiny_bert, tmp_path):
    pairs, dev = write_tiny_training_data(tmp_path)
    config = recipe_config(
        pairs, dev, None, tmp_path / "run", model=str(tiny_bert), max_steps=2, batch_size=4, eval_step=2, lr=1e-2
    )
    config.dev_distractor_codes = None
    trainer = TopLayersTrainer(config, top_layers=1)
    summary = trainer.fit()
    assert summary["steps"] == 2
    stage_two = recipe_config(pairs, dev, None, tmp_path / "run2", model=str(tmp_path / "run" / "checkpoint" / "model"),
                              max_steps=2, batch_size=4, eval_step=2, lr=1e-2, seed=3)  # fmt: skip
    stage_two.dev_distractor_codes = None
    assert TopLayersTrainer(stage_two, top_layers=1).fit()["steps"] == 2
    trained = AutoModel.from_pretrained(tmp_path / "run" / "checkpoint" / "model").state_dict()
    base = AutoModel.from_pretrained(tiny_bert).state_dict()
    pooler_free = [name for name in base if not name.startswith("pooler.")]  # random per load in the tiny base
    changed = {name for name in pooler_free if not torch.equal(base[name], trained[name])}
    assert changed and changed <= set(trainer.trained_names)
    assert all(".layer.1." in name for name in trainer.trained_names)
    delta = export_delta(
        tmp_path / "run2" / "checkpoint" / "model", str(tiny_bert), trainer.trained_names, tmp_path / "d"
    )
    assert sorted(load_file(delta / DELTA_FILE)) == sorted(trainer.trained_names)
    with pytest.raises(ValueError, match=r"differs from the base .* outside the delta"):
        export_delta(tmp_path / "run" / "checkpoint" / "model", str(tiny_bert), trainer.trained_names[:1], tmp_path)


def test_top_layers_must_exist(tiny_bert):
    encoder = Encoder.from_pretrained(tiny_bert, device="cpu")
    with pytest.raises(ValueError, match="between 1 and 2"):
        freeze_below_top(encoder.model, 3)


def cli_app():
    """A typer app with just the ``pretrain-default`` command."""
    import typer

    from pretrain.default_model_cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps typer from collapsing the app into one command
    return app


def test_cli_help_has_an_example_and_bad_input_exits_2(tmp_path):
    from typer.testing import CliRunner

    runner = CliRunner()
    assert "Example: sapbert pretrain-default" in runner.invoke(cli_app(), ["pretrain-default", "--help"]).output
    _, dev = write_tiny_training_data(tmp_path)
    missing = tmp_path / "no_pairs.tsv"
    result = runner.invoke(cli_app(), ["pretrain-default", "--pairs", str(missing), "--dev", str(dev), "--work", "w"])
    assert result.exit_code == 2
    assert "no_pairs.tsv" in result.output
