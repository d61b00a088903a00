"""Two gloo processes on CPU train exactly like one process on the whole global batch."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from pretrain.train import TrainConfig, Trainer
from tests.test_pretrain_train import one_thread, small_config  # noqa: F401


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker(rank: int, world: int, port: int, settings: dict, grads_file: str) -> None:
    """One torchrun-like process: first-step gradients to ``grads_file`` (rank 0), then a full run."""
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    torch.set_num_threads(1)
    trainer = Trainer(TrainConfig(**settings))
    loss = trainer.accumulate_gradients(trainer.sampler.batches(0)[:1])
    if rank == 0:
        grads = {name: p.grad for name, p in trainer.module.named_parameters() if p.grad is not None}
        save_file({**grads, "loss": torch.tensor(loss)}, grads_file)
    trainer.optimizer.zero_grad(set_to_none=True)
    trainer.fit()


def test_two_processes_match_one_process_on_the_global_batch(tiny_bert, tmp_path) -> None:
    common = dict(dropout=0.0, projection_head=True, max_steps=3, eval_step=2, lr=1e-3)
    parallel = small_config(tiny_bert, tmp_path / "ddp", batch_size=2, **common)
    grads_file = str(tmp_path / "ddp_grads.safetensors")
    mp.start_processes(worker, args=(2, free_port(), asdict(parallel), grads_file), nprocs=2, start_method="spawn")

    single = Trainer(small_config(tiny_bert, tmp_path / "one", batch_size=4, **common))
    loss = single.accumulate_gradients(single.sampler.batches(0)[:1])
    reference = {name: p.grad for name, p in single.module.named_parameters() if p.grad is not None}
    gathered = load_file(grads_file)
    assert abs(gathered.pop("loss").item() - loss) < 1e-6
    assert reference.keys() == gathered.keys()
    for name, grad in reference.items():  # the summed gradient of the full global batch, not half of it
        torch.testing.assert_close(gathered[name], grad, rtol=1e-4, atol=1e-6, msg=name)
    single.optimizer.zero_grad(set_to_none=True)
    summary = single.fit()

    ddp_run, one_run = Path(parallel.output), tmp_path / "one" / "run"
    expected = load_file(one_run / "checkpoint" / "model" / "model.safetensors")
    actual = load_file(ddp_run / "checkpoint" / "model" / "model.safetensors")
    for name, tensor in expected.items():  # Adam turns rounding noise of near-zero gradients into ~1e-5 steps
        torch.testing.assert_close(actual[name], tensor, rtol=0, atol=2e-4, msg=name)
    rows = [
        [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()] for run in (ddp_run, one_run)
    ]
    assert [row["step"] for row in rows[0]] == [row["step"] for row in rows[1]] == [0, 1, 2, 2, 3, 3]
    for ddp_row, one_row in zip(*rows, strict=True):
        assert ddp_row.get("loss", 0) == pytest.approx(one_row.get("loss", 0), abs=1e-5)
        assert ddp_row.get("dev_acc@1") == one_row.get("dev_acc@1")
    assert summary["processes"] == 1
