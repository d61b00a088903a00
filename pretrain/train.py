"""SapBERT self-alignment pretraining: one shared encoder pulled together on synonym pairs, evaluated as it learns.

:class:`Trainer` validates every input before the first step (pair file or concept table, dev queries, dictionary,
model and tokenizer), then trains with the Multi-Similarity loss over the whole (global) batch, AdamW without
decay on biases and LayerNorm, warmup then linear or cosine decay per optimizer step, clipping, accumulation and
bf16 autocast. Every ``eval_step`` steps it links the held-out dev names against the dictionary (acc@1/@5), keeps
the best model, logs JSONL metrics and writes an atomic, exactly resumable checkpoint.

Output folder layout:

``model/``           the model to use (best dev acc@1; the last weights without a dev set): a Hugging Face folder
                     (safetensors, tokenizer, ``sapbert_encoder.json``) that ``AutoModel`` and the linker load
``checkpoint/``      the latest training state for ``--resume`` (its ``model/`` holds the last weights)
``metrics.jsonl``    one JSON object per optimizer step (loss, lr, pairs/s) and per evaluation (dev scores)
``summary.json``     what the run did and measured

The optional projection head (Linear + Tanh, as in SimCSE) runs during training only: the loss sees its outputs,
while dev scoring and the exported model use the encoder's pooled vectors, so the saved folder is a plain encoder.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from corpora.errors import InputError
from corpora.files import atomic_dir, atomic_file
from pretrain.data import PairBatchSampler, PairSet, load_training_pairs
from pretrain.distributed import barrier, gather_with_grad, join_from_environment, leave
from pretrain.encoder import Encoder, pool, resolve_device
from pretrain.loss import MultiSimilarityLoss

SCHEDULES = ("linear", "cosine", "constant")
AMP_MODES = ("auto", "bf16", "off")
RESUME_MAY_CHANGE = frozenset({"output", "stop_after", "device", "eval_batch_size"})


@dataclass
class TrainConfig:
    """Every setting of a pretraining run (presets fill some; ``sapbert pretrain --help`` explains each)."""

    train: str = ""
    output: str = ""
    model: str = "e5-small-offline"
    dev: str | None = None
    dictionary: str | None = None
    pooling: str | None = None
    max_length: int | None = None
    prefix: str | None = None
    projection_head: bool = False
    dropout: float | None = None
    alpha: float = 1.0
    beta: float = 60.0
    base: float = 0.5
    mining_margin: float | None = None
    epochs: int = 1
    max_steps: int | None = None
    stop_after: int | None = None
    batch_size: int = 64
    pairs_per_code: int = 1
    accumulation: int = 1
    lr: float = 2e-5
    weight_decay: float = 0.01
    warmup: float = 0.0
    schedule: str = "linear"
    max_grad_norm: float = 1.0
    amp: str = "auto"
    freeze_embeddings: bool = False
    extend_vocab: int = 0
    vocab_min_count: int = 5
    max_pairs_per_code: int = 50
    eval_step: int = 100
    save_step: int | None = None
    dev_max_queries: int | None = None
    dev_distractor_codes: int | None = None
    eval_batch_size: int = 256
    seed: int = 42
    device: str = "auto"

    def check(self) -> None:
        """Raise ValueError on settings that cannot work, before anything is loaded."""
        if not self.train or not self.output:
            raise ValueError("both the training data and the output folder are required")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.amp not in AMP_MODES:
            raise ValueError(f"amp must be one of {AMP_MODES}, got {self.amp!r}")
        for name in ("epochs", "batch_size", "pairs_per_code", "accumulation", "eval_step"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.warmup < 1.0:
            raise ValueError(f"warmup is a fraction of the steps in [0, 1), got {self.warmup}")

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build a config from a mapping, refusing unknown keys (typos in presets or stored configs)."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**values)


def lr_factor(step: int, total: int, warmup: int, schedule: str) -> float:
    """Return the learning-rate multiplier of optimizer step ``step`` (0-based): linear warmup, then decay to 0."""
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0 - progress


def parameter_groups(module: nn.Module, weight_decay: float) -> list[dict]:
    """Return AdamW groups: decay on weight matrices, none on biases and LayerNorm (trainable parameters only)."""
    no_decay: set[int] = set()
    for submodule in module.modules():
        if isinstance(submodule, nn.LayerNorm):
            no_decay.update(id(parameter) for parameter in submodule.parameters(recurse=False))
    decay, plain = [], []
    for name, parameter in module.named_parameters():
        if not parameter.requires_grad:
            continue
        (plain if id(parameter) in no_decay or name.endswith("bias") else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


class PairEmbedder(nn.Module):
    """Encoder backbone + pooling (+ the training-only projection head): the module that training differentiates."""

    def __init__(self, backbone: nn.Module, pooling: str, head: nn.Module | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.pooling = pooling
        self.head = head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Return one vector per tokenised text (pooled, through the head when there is one)."""
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = pool(hidden, attention_mask, self.pooling)
        return pooled if self.head is None else self.head(pooled)


def check_tokenizer_fits(encoder: Encoder, model_path: str) -> None:
    """Raise InputError when the tokenizer can emit ids the model's embedding matrix does not have."""
    rows = encoder.model.get_input_embeddings().num_embeddings
    if len(encoder.tokenizer) > rows:
        raise InputError(
            model_path,
            f"tokenizer has {len(encoder.tokenizer)} tokens but the model's embedding matrix has {rows} rows: "
            "tokenizer and weights do not belong together",
        )


class Trainer:
    """One pretraining run; everything is loaded and validated in the constructor, :meth:`fit` trains."""

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        config.check()
        self.output = Path(config.output)
        self.checkpoint_dir = self.output / "checkpoint"
        stored = self._stored_state(config) if resume else None
        self.config = config
        device = resolve_device(config.device)
        self.group = join_from_environment(device)
        if device.type == "cuda" and self.group.active:
            device = torch.device("cuda", self.group.local_rank)
            torch.cuda.set_device(device)
        self.device = device

        self.pairs: PairSet = load_training_pairs(config.train, config.max_pairs_per_code, config.seed)
        self.dictionary = self._load_dictionary()
        self.dev = self._load_dev()
        model_path = str(self.checkpoint_dir / "model") if stored else config.model
        torch.manual_seed(config.seed)  # layers the checkpoint lacks (a pooler) start the same in every run
        self.encoder = Encoder.from_pretrained(
            model_path, pooling=config.pooling, max_length=config.max_length, prefix=config.prefix, device=str(device)
        )
        check_tokenizer_fits(self.encoder, model_path)
        self.vocab_added = 0
        if config.extend_vocab and not stored:
            from pretrain.vocab import extend_vocabulary, frequent_split_words

            names, _ = self.pairs.dictionary()
            words = frequent_split_words(names, self.encoder.tokenizer, config.extend_vocab, config.vocab_min_count)
            self.vocab_added = extend_vocabulary(self.encoder, words)
        if config.dropout is not None:
            self._set_dropout(config.dropout)
        self.freeze_parameters()

        torch.manual_seed(config.seed)
        dim = self.encoder.dim
        head = nn.Sequential(nn.Linear(dim, dim), nn.Tanh()).to(device) if config.projection_head else None
        self.module = PairEmbedder(self.encoder.model, self.encoder.settings.pooling, head)
        self.module.train()
        self.forward_module: nn.Module = self.module
        if self.group.active:
            device_ids = [device.index] if device.type == "cuda" else None
            self.forward_module = nn.parallel.DistributedDataParallel(self.module, device_ids=device_ids)
        self.optimizer = torch.optim.AdamW(parameter_groups(self.module, config.weight_decay), lr=config.lr)
        self.loss = MultiSimilarityLoss(config.alpha, config.beta, config.base, config.mining_margin)
        self.sampler = PairBatchSampler(
            self.pairs.labels, config.batch_size * self.group.world_size, config.pairs_per_code, config.seed
        )
        self.steps_per_epoch = len(self.sampler) // config.accumulation
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"one optimizer step needs {config.accumulation} batches but an epoch has {len(self.sampler)}: "
                "lower the batch size or the accumulation"
            )
        total = config.epochs * self.steps_per_epoch
        self.total_steps = min(total, config.max_steps) if config.max_steps else total
        self.warmup_steps = round(config.warmup * self.total_steps)
        self.autocast_dtype = self._autocast_dtype()
        self.trainable = sum(p.numel() for p in self.module.parameters() if p.requires_grad)
        self.step = 0
        self.best: list[float] | None = None  # (acc@1, acc@5) of the kept model
        self.history: dict[str, dict] = {}
        torch.manual_seed(config.seed + self.group.rank)
        if stored:
            self._restore(stored)

    def freeze_parameters(self) -> None:
        """Fix the encoder parameters that must not train, before the optimizer and DDP are built.

        Subclasses that freeze more (e.g. all but the top layers) extend this hook, so multi-process training and
        the optimizer see the final set of trainable parameters.
        """
        if self.config.freeze_embeddings:
            self.encoder.model.get_input_embeddings().weight.requires_grad_(False)
        if getattr(self.encoder.model, "pooler", None) is not None:  # pooling reads hidden states, not the pooler
            self.encoder.model.pooler.requires_grad_(False)

    # -- inputs -------------------------------------------------------------------------------------------------

    def _stored_state(self, config: TrainConfig) -> dict:
        path = self.checkpoint_dir / "state.json"
        if not path.is_file():
            raise InputError(self.checkpoint_dir, "no checkpoint to resume from (state.json missing)")
        state = json.loads(path.read_text(encoding="utf-8"))
        saved = TrainConfig.from_dict(state["config"])
        changed = [
            f.name
            for f in fields(TrainConfig)
            if f.name not in RESUME_MAY_CHANGE and getattr(saved, f.name) != getattr(config, f.name)
        ]
        if changed:
            raise ValueError(
                f"cannot resume with changed settings: {', '.join(changed)} (the checkpoint was "
                "trained with others; resume with the stored configuration)"
            )
        return state

    def _load_dictionary(self) -> tuple[list[str], list[str]]:
        if self.config.dictionary is None:
            return self.pairs.dictionary()
        from corpora.table import read_concepts

        frame = read_concepts(self.config.dictionary)
        return frame["name"].tolist(), frame["code"].tolist()

    def _load_dev(self) -> tuple[list[str], list[tuple[str, ...]]] | None:
        if self.config.dev is None:
            return None
        from corpora.queries import read_queries

        queries = read_queries(self.config.dev)
        limit = self.config.dev_max_queries
        if limit and len(queries) > limit:
            chosen = np.random.default_rng(self.config.seed).choice(len(queries), size=limit, replace=False)
            queries = [queries[i] for i in sorted(chosen)]
        known = set(self.dictionary[1])
        self.dev_unlinkable = sum(not set(query.codes) & known for query in queries)
        if self.config.dev_distractor_codes is not None:
            self.dictionary = self._dev_dictionary(queries, self.config.dev_distractor_codes)
        return [query.mention for query in queries], [query.codes for query in queries]

    def _dev_dictionary(self, queries: list, distractors: int) -> tuple[list[str], list[str]]:
        """Keep only the dictionary names of the dev gold codes and of ``distractors`` random other codes."""
        names, codes = self.dictionary
        gold = {code for query in queries for code in query.codes}
        others = sorted(set(codes) - gold)
        rng = np.random.default_rng(self.config.seed)
        chosen = {others[i] for i in rng.choice(len(others), size=min(distractors, len(others)), replace=False)}
        kept = [i for i, code in enumerate(codes) if code in gold or code in chosen]
        return [names[i] for i in kept], [codes[i] for i in kept]

    def _set_dropout(self, probability: float) -> None:
        for submodule in self.encoder.model.modules():
            if isinstance(submodule, nn.Dropout):
                submodule.p = probability
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            if hasattr(self.encoder.model.config, name):
                setattr(self.encoder.model.config, name, probability)

    def _autocast_dtype(self) -> torch.dtype | None:
        mode = self.config.amp
        if mode == "bf16":
            return torch.bfloat16
        if mode == "auto" and self.device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return None

    # -- one optimizer step -------------------------------------------------------------------------------------

    def accumulate_gradients(self, global_batches: list[np.ndarray]) -> float:
        """Run forward and backward over the micro-batches of one optimizer step; return their mean loss.

        Each batch holds pair indices of the global batch; this process embeds its slice, the loss sees all.
        """
        rank, world = self.group.rank, self.group.world_size
        total = 0.0
        for number, batch in enumerate(global_batches):
            share = len(batch) // world
            local = batch[rank * share : (rank + 1) * share]
            texts = [self.pairs.left[i] for i in local] + [self.pairs.right[i] for i in local]
            tokens = self.encoder.tokenize(texts)
            labels = torch.from_numpy(
                np.concatenate(
                    [np.tile(self.pairs.labels[batch[r * share : (r + 1) * share]], 2) for r in range(world)]
                )
            ).to(self.device)
            last = number == len(global_batches) - 1
            sync = contextlib.nullcontext() if last or not self.group.active else self.forward_module.no_sync()
            autocast = (
                torch.autocast(self.device.type, dtype=self.autocast_dtype)
                if self.autocast_dtype
                else contextlib.nullcontext()
            )
            with sync:
                with autocast:
                    local_vectors = self.forward_module(tokens["input_ids"], tokens["attention_mask"])
                vectors = gather_with_grad(local_vectors.float(), self.group)
                loss = self.loss(vectors, labels)
                (loss * world / len(global_batches)).backward()
            total += loss.item()
        return total / len(global_batches)

    def _optimizer_step(self) -> float:
        lr = self.config.lr * lr_factor(self.step, self.total_steps, self.warmup_steps, self.config.schedule)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self.config.max_grad_norm > 0:
            nn.utils.clip_grad_norm_(
                [p for p in self.module.parameters() if p.requires_grad], self.config.max_grad_norm
            )
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return lr

    # -- the loop -----------------------------------------------------------------------------------------------

    def fit(self) -> dict:
        """Train until the planned steps (or ``stop_after`` steps of this run) are done; return the summary."""
        config = self.config
        main = self.group.is_main
        log = self._open_log() if main else None
        try:
            if self.step == 0 and self.dev is not None:
                self._evaluate(log)
            started, run_steps, pairs_done, train_seconds = self.step, 0, 0, 0.0
            pairs_per_step = config.batch_size * self.group.world_size * config.accumulation
            save_every = config.save_step or config.eval_step
            progress = tqdm(
                total=self.total_steps, initial=self.step, desc="pretraining", unit="step", disable=not main
            )
            epoch_batches: tuple[int, list[np.ndarray]] | None = None
            while self.step < self.total_steps and (config.stop_after is None or run_steps < config.stop_after):
                epoch, offset = divmod(self.step, self.steps_per_epoch)
                if epoch_batches is None or epoch_batches[0] != epoch:
                    epoch_batches = (epoch, self.sampler.batches(epoch))
                batches = epoch_batches[1][offset * config.accumulation : (offset + 1) * config.accumulation]
                tick = time.perf_counter()
                loss = self.accumulate_gradients(batches)
                lr = self._optimizer_step()
                seconds = time.perf_counter() - tick
                self.step += 1
                run_steps += 1
                pairs_done += pairs_per_step
                train_seconds += seconds
                row = {
                    "step": self.step,
                    "epoch": epoch,
                    "loss": round(loss, 6),
                    "lr": lr,
                    "pairs_per_s": round(pairs_per_step / seconds, 2),
                }
                if log:
                    log.write(json.dumps(row) + "\n")
                progress.update(1)
                progress.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}")
                finished = self.step == self.total_steps
                if self.dev is not None and (self.step % config.eval_step == 0 or finished):
                    self._evaluate(log)
                stopping = config.stop_after is not None and run_steps == config.stop_after
                if self.step % save_every == 0 or finished or stopping:
                    self._save_checkpoint()
            progress.close()
            if self.dev is None and main:
                with atomic_dir(self.output / "model") as folder:
                    self.encoder.save_pretrained(folder)
            barrier(self.group)
            summary = self._summary(started, pairs_done, train_seconds)
            if main:
                with atomic_file(self.output / "summary.json") as handle:
                    handle.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
            return summary
        finally:
            if log:
                log.close()
            leave(self.group)

    def _open_log(self):
        self.output.mkdir(parents=True, exist_ok=True)
        path = self.output / "metrics.jsonl"
        kept = []
        if path.is_file():  # after a resume, drop rows of steps the checkpoint does not contain
            kept = [
                line
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line)["step"] <= self.step
            ]
            if self.step == 0:
                kept = []
        with atomic_file(path) as handle:
            handle.writelines(line + "\n" for line in kept)
        return path.open("a", encoding="utf-8", buffering=1)

    def _evaluate(self, log) -> None:
        if self.group.is_main:
            from pretrain.dev_eval import link_accuracy

            names, codes = self.dictionary
            mentions, gold = self.dev
            scores = link_accuracy(self.encoder, mentions, gold, names, codes, batch_size=self.config.eval_batch_size)
            row = {"step": self.step, **{f"dev_{key}": value for key, value in scores.items()}}
            log.write(json.dumps(row) + "\n")
            tqdm.write(f"step {self.step}: dev acc@1 {scores['acc@1']:.4f}, acc@5 {scores['acc@5']:.4f}")
            if self.step == 0:
                self.history["untrained"] = row
            self.history["last"] = row
            score = [scores["acc@1"], scores["acc@5"]]
            if self.best is None or score > self.best:
                self.best = score
                self.history["best"] = row
                with atomic_dir(self.output / "model") as folder:
                    self.encoder.save_pretrained(folder)
        barrier(self.group)

    # -- checkpoints --------------------------------------------------------------------------------------------

    def _rng_states(self) -> dict[str, torch.Tensor]:
        states = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            states["cuda"] = torch.cuda.get_rng_state(self.device)
        if not self.group.active:
            return {f"{kind}.0": state for kind, state in states.items()}
        gathered = {}
        for kind, state in states.items():
            parts = [torch.empty_like(state.to(self.device)) for _ in range(self.group.world_size)]
            torch.distributed.all_gather(parts, state.to(self.device))
            gathered.update({f"{kind}.{rank}": part.cpu() for rank, part in enumerate(parts)})
        return gathered

    def _save_checkpoint(self) -> None:
        rng = self._rng_states()
        if self.group.is_main:
            optimizer = self.optimizer.state_dict()
            tensors = {
                f"{index}.{name}": value.detach().cpu().contiguous()
                for index, entries in optimizer["state"].items()
                for name, value in entries.items()
            }
            state = {
                "step": self.step,
                "best": self.best,
                "history": self.history,
                "config": asdict(self.config),
                "param_groups": optimizer["param_groups"],
                "world_size": self.group.world_size,
                "vocab_added": self.vocab_added,
            }
            with atomic_dir(self.checkpoint_dir) as folder:
                self.encoder.save_pretrained(folder / "model")
                if self.module.head is not None:
                    save_file(self.module.head.state_dict(), folder / "head.safetensors")
                save_file(tensors, folder / "optimizer.safetensors")
                save_file(rng, folder / "rng.safetensors")
                (folder / "state.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        barrier(self.group)

    def _restore(self, state: dict) -> None:
        folder = self.checkpoint_dir
        if self.module.head is not None:
            self.module.head.load_state_dict(load_file(folder / "head.safetensors", device=str(self.device)))
        tensors = load_file(folder / "optimizer.safetensors")
        per_parameter: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            index, name = key.split(".", 1)
            per_parameter.setdefault(int(index), {})[name] = value
        self.optimizer.load_state_dict({"state": per_parameter, "param_groups": state["param_groups"]})
        rng = load_file(folder / "rng.safetensors")
        rank = self.group.rank if state["world_size"] == self.group.world_size else 0
        torch.set_rng_state(rng[f"torch.{rank}"])
        if self.device.type == "cuda" and f"cuda.{rank}" in rng:
            torch.cuda.set_rng_state(rng[f"cuda.{rank}"], self.device)
        self.step = state["step"]
        self.best = state["best"]
        self.history = state["history"]
        self.vocab_added = state["vocab_added"]

    def _summary(self, started: int, pairs_done: int, train_seconds: float) -> dict:
        return {
            "steps": self.step,
            "planned_steps": self.total_steps,
            "steps_this_run": self.step - started,
            "pairs": len(self.pairs),
            "codes": len(self.pairs.codes),
            "codes_skipped_single_name": self.pairs.skipped_codes,
            "dictionary_names": len(self.dictionary[0]),
            "dev_queries": len(self.dev[0]) if self.dev else 0,
            "dev_queries_without_code_in_dictionary": getattr(self, "dev_unlinkable", 0),
            "trainable_parameters": self.trainable,
            "vocab_added": self.vocab_added,
            "processes": self.group.world_size,
            "device": str(self.device),
            "cpu_threads": torch.get_num_threads(),
            "pairs_per_s": round(pairs_done / train_seconds, 2) if train_seconds else None,
            "dev_untrained": self.history.get("untrained"),
            "dev_best": self.history.get("best"),
            "dev_last": self.history.get("last"),
            "model": str(self.output / "model"),
        }


def train(config: TrainConfig, resume: bool = False) -> dict:
    """Run (or resume) a pretraining run and return its summary (also written to ``summary.json``)."""
    return Trainer(config, resume=resume).fit()
