"""Training end to end on the tiny fixture models: output, metrics, exact resume, head, schedule, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel
from typer.testing import CliRunner

from corpora.errors import InputError
from pretrain.encoder import Encoder, EncoderSettings
from pretrain.train import TrainConfig, Trainer, lr_factor, parameter_groups, train

SYNONYMS = {
    "K74.6": ["간경화", "간경변증", "liver cirrhosis", "cirrhosis of liver"],
    "C22.0": ["간암", "간세포암", "hepatocellular carcinoma", "HCC"],
    "E11": ["제2형 당뇨병", "2형 당뇨", "type 2 diabetes", "T2DM"],
    "I10": ["고혈압", "본태성 고혈압", "hypertension", "HTN"],
    "R51": ["두통", "머리 아픔", "headache", "cephalalgia"],
    "J18.9": ["폐렴", "상세불명 폐렴", "pneumonia", "pneumonia NOS"],
}


@pytest.fixture(autouse=True)
def one_thread():
    """Train on one thread: the tiny models gain nothing from more, and a busy shared CPU makes threads spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def write_training_files(folder: Path) -> tuple[Path, Path]:
    """Write a pair file (all pairs of the first three names per code) and dev queries (the fourth names)."""
    folder.mkdir(parents=True, exist_ok=True)
    pairs = ["sent0\tsent1\tlabel"]
    for code, names in SYNONYMS.items():
        pairs += [f"{names[i]}\t{names[j]}\t{code}" for i in range(3) for j in range(i + 1, 3)]
    dev = ["mention\tcode"] + [f"{names[3]}\t{code}" for code, names in SYNONYMS.items()]
    (folder / "pairs.tsv").write_text("\n".join(pairs) + "\n", encoding="utf-8")
    (folder / "dev.tsv").write_text("\n".join(dev) + "\n", encoding="utf-8")
    return folder / "pairs.tsv", folder / "dev.tsv"


def small_config(model: Path, folder: Path, **overrides) -> TrainConfig:
    pairs, dev = write_training_files(folder / "data")
    settings = dict(
        train=str(pairs),
        dev=str(dev),
        output=str(folder / "run"),
        model=str(model),
        batch_size=4,
        epochs=2,
        lr=1e-3,
        warmup=0.2,
        eval_step=4,
        device="cpu",
        seed=7,
    )
    settings.update(overrides)
    return TrainConfig(**settings)


def synonym_margin(model_folder: Path) -> float:
    """Mean cosine of synonym pairs minus mean cosine of names of different codes."""
    encoder = Encoder.from_pretrained(model_folder, device="cpu")
    names = [name for group in SYNONYMS.values() for name in group]
    codes = np.repeat(np.arange(len(SYNONYMS)), 4)
    similarity = encoder.encode(names) @ encoder.encode(names).T
    same = (codes[:, None] == codes[None, :]) & ~np.eye(len(names), dtype=bool)
    return float(similarity[same].mean() - similarity[codes[:, None] != codes[None, :]].mean())


def test_cli_trains_a_model_that_automodel_loads_and_that_separates_concepts(tiny_xlmr, tmp_path) -> None:
    from sapbert_cli import app

    pairs, dev = write_training_files(tmp_path / "data")
    out = tmp_path / "run"
    arguments = ["pretrain", "--train", str(pairs), "--dev", str(dev), "--output", str(out), "--model", str(tiny_xlmr),
                 "--batch-size", "6", "--epochs", "8", "--lr", "2e-3", "--eval-step", "5", "--device", "cpu",
                 "--max-length", "16", "--projection-head", "--warmup", "0.2"]  # fmt: skip
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 24 and summary["pairs_per_s"] > 0
    assert summary["dev_untrained"]["step"] == 0 and summary["dev_last"]["step"] == 24
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [row for row in rows if "loss" in row]
    evals = [row for row in rows if "dev_acc@1" in row]
    assert [row["step"] for row in steps] == list(range(1, 25))
    assert all({"loss", "lr", "pairs_per_s", "epoch"} <= set(row) for row in steps)
    assert [row["step"] for row in evals] == [0, 5, 10, 15, 20, 24]
    assert steps[0]["lr"] < steps[4]["lr"] and steps[-1]["lr"] < steps[5]["lr"]  # warmup, then decay
    best = max(evals, key=lambda row: (row["dev_acc@1"], row["dev_acc@5"]))
    assert summary["dev_best"] == best
    model = out / "model"
    assert AutoModel.from_pretrained(model) is not None
    assert (model / "model.safetensors").is_file() and (model / "tokenizer.json").is_file()
    assert EncoderSettings.load(model) == EncoderSettings(pooling="mean", max_length=16)
    assert not any("head" in key for key in load_file(model / "model.safetensors"))  # the head is training-only
    assert synonym_margin(out / "checkpoint" / "model") > synonym_margin(tiny_xlmr) + 0.05


def test_resume_continues_exactly(tiny_bert, tmp_path) -> None:
    config = small_config(tiny_bert, tmp_path / "a", projection_head=True, accumulation=2, batch_size=2,
                          max_steps=6, schedule="cosine", dev=None)  # fmt: skip
    train(config)
    straight = tmp_path / "a" / "run"

    interrupted = small_config(tiny_bert, tmp_path / "b", projection_head=True, accumulation=2, batch_size=2,
                               max_steps=6, schedule="cosine", dev=None, stop_after=4)  # fmt: skip
    assert train(interrupted)["steps"] == 4
    interrupted.stop_after = None
    assert train(interrupted, resume=True)["steps_this_run"] == 2
    resumed = tmp_path / "b" / "run"

    for name in ("checkpoint/model/model.safetensors", "checkpoint/head.safetensors", "model/model.safetensors"):
        expected, actual = load_file(straight / name), load_file(resumed / name)
        assert expected.keys() == actual.keys()
        assert all(torch.equal(expected[key], actual[key]) for key in expected), name
    assert (straight / "metrics.jsonl").read_text() != ""
    losses = [[json.loads(line)["loss"] for line in (folder / "metrics.jsonl").read_text().splitlines()]
              for folder in (straight, resumed)]  # fmt: skip
    assert losses[0] == losses[1]


def test_resume_refuses_changed_settings(tiny_bert, tmp_path) -> None:
    config = small_config(tiny_bert, tmp_path, dev=None, max_steps=1)
    train(config)
    config.lr = 5e-4
    with pytest.raises(ValueError, match="changed settings: lr"):
        Trainer(config, resume=True)


def test_projection_head_receives_gradients_and_frozen_embeddings_do_not(tiny_bert, tmp_path) -> None:
    trainer = Trainer(small_config(tiny_bert, tmp_path, projection_head=True, freeze_embeddings=True, amp="bf16"))
    loss = trainer.accumulate_gradients(trainer.sampler.batches(0)[:1])
    assert np.isfinite(loss) and loss > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in trainer.module.head.parameters())
    assert trainer.encoder.model.get_input_embeddings().weight.grad is None
    untouched = trainer.encoder.model.get_input_embeddings().weight.numel()
    untouched += sum(p.numel() for p in trainer.encoder.model.pooler.parameters())  # pooling never reads it
    assert trainer.trainable == sum(p.numel() for p in trainer.module.parameters()) - untouched


def test_no_weight_decay_on_bias_and_layernorm(tiny_bert) -> None:
    model = AutoModel.from_pretrained(tiny_bert)
    decay, plain = parameter_groups(model, 0.01)
    names = {id(p): name for name, p in model.named_parameters()}
    assert decay["weight_decay"] == 0.01 and plain["weight_decay"] == 0.0
    assert all(not names[id(p)].endswith("bias") and "LayerNorm" not in names[id(p)] for p in decay["params"])
    assert all(names[id(p)].endswith("bias") or "LayerNorm" in names[id(p)] for p in plain["params"])
    assert len(decay["params"]) + len(plain["params"]) == len(names)


def test_learning_rate_schedule_per_optimizer_step() -> None:
    assert [lr_factor(step, 10, 2, "linear") for step in (0, 1, 2, 6, 10)] == [0.5, 1.0, 1.0, 0.5, 0.0]
    assert lr_factor(6, 10, 2, "cosine") == pytest.approx(0.5)
    assert lr_factor(3, 10, 2, "cosine") == pytest.approx(0.5 * (1 + np.cos(np.pi / 8)))
    assert lr_factor(9, 10, 0, "constant") == 1.0


def test_bad_inputs_stop_before_any_step(tiny_bert, tmp_path) -> None:
    good = small_config(tiny_bert, tmp_path)
    single = tmp_path / "single.tsv"
    single.write_text("sent0\tsent1\tlabel\na\tb\tK1\nc\td\tK1\n", encoding="utf-8")
    with pytest.raises(InputError, match="one label"):
        Trainer(TrainConfig(**{**good.__dict__, "train": str(single)}))
    with pytest.raises(FileNotFoundError, match="cannot load model"):
        Trainer(TrainConfig(**{**good.__dict__, "model": str(tmp_path / "missing-model")}))
    mismatched = tmp_path / "mismatched"
    shutil.copytree(tiny_bert, mismatched)
    encoder = Encoder.from_pretrained(mismatched, device="cpu")
    encoder.tokenizer.add_tokens(["간경변증", "cirrhosis"])
    encoder.tokenizer.save_pretrained(mismatched)  # tokenizer grown, weights not resized
    with pytest.raises(InputError, match=r"tokenizer has \d+ tokens but the model.s embedding matrix has"):
        Trainer(TrainConfig(**{**good.__dict__, "model": str(mismatched)}))
    assert not Path(good.output).exists()


def test_cli_reports_bad_input_in_one_line(tiny_bert, tmp_path) -> None:
    from sapbert_cli import app

    bad = tmp_path / "bad.tsv"
    bad.write_text("sent0\tlabel\na\tK1\n", encoding="utf-8")
    arguments = ["pretrain", "--train", str(bad), "--output", str(tmp_path / "run"), "--model", str(tiny_bert)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 2
    assert "missing column(s) sent1" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_presets_are_complete_valid_configs() -> None:
    from pretrain.presets import PRESETS, preset_settings

    for name, preset in PRESETS.items():
        TrainConfig.from_dict({**preset_settings(name), "train": "pairs.tsv", "output": "run"}).check()
        assert preset["description"]
    seed = preset_settings("seed-klue")
    assert (seed["model"], seed["base"], seed["alpha"], seed["beta"], seed["batch_size"], seed["max_length"]) == (
        "klue/bert-base", 0.8, 1.0, 60.0, 64, 64,
    )  # fmt: skip
    assert (seed["dropout"], seed["pooling"], seed["eval_step"], seed["epochs"]) == (0.1, "cls", 100, 1)
    paper = preset_settings("sapbert-paper")
    assert (paper["alpha"], paper["beta"], paper["base"], paper["lr"], paper["batch_size"], paper["max_length"]) == (
        1.0, 60.0, 0.5, 2e-5, 256, 25,
    )  # fmt: skip
    cpu = preset_settings("cpu-e5-small")
    assert cpu["model"] == "e5-small-offline" and cpu["freeze_embeddings"] and cpu["max_steps"] <= 300
    with pytest.raises(ValueError, match="known presets"):
        preset_settings("nope")


def test_cli_preset_and_overrides_on_a_concept_table_then_resume(tiny_bert, tmp_path) -> None:
    from corpora.table import concept_frame, write_concepts
    from sapbert_cli import app

    rows = [{"code": code, "name": name} for code, names in SYNONYMS.items() for name in names]
    table = write_concepts(concept_frame(rows), tmp_path / "concepts.tsv")
    out = tmp_path / "run"
    arguments = ["pretrain", "--preset", "sapbert-paper", "--model", str(tiny_bert), "--train", str(table),
                 "--output", str(out), "--batch-size", "4", "--max-steps", "4", "--stop-after", "2",
                 "--device", "cpu", "--max-length", "16"]  # fmt: skip
    first = CliRunner().invoke(app, arguments)
    assert first.exit_code == 0, first.output
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["step"] == 2
    assert state["config"]["mining_margin"] == 0.2 and state["config"]["batch_size"] == 4  # preset + override
    resumed = CliRunner().invoke(app, ["pretrain", "--output", str(out), "--resume"])
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["steps"], summary["steps_this_run"], summary["pairs"]) == (4, 2, 36)  # 6 codes x 6 pairs
    assert AutoModel.from_pretrained(out / "model") is not None


def test_importing_the_package_and_command_stays_light() -> None:
    import subprocess
    import sys

    code = "import sys, pretrain, pretrain.train_cli; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
