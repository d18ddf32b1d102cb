"""Data-parallel and fully sharded training under ``torchrun``.

Every rank takes rows ``rank::world`` of each global batch. The gradients are then averaged in one of two ways:

- *replicated* (DDP-style): each rank holds the whole model and one flat all-reduce per step averages the
  gradients (one collective per step, however many tasks and micro-batches the step has);
- *sharded* (FSDP, torch's ``fully_shard``): parameters, gradients and optimizer state are split across ranks;
  each encoder and decoder layer is gathered for its forward and backward and freed after, and gradients are
  reduce-scattered. ``parallel="auto"`` shards models of ``fsdp_min_params`` parameters or more.

Both compute the update of one process with the same global batch. Evaluation gathers the whole model on every
rank (generation calls more than ``forward``), and checkpoints are written whole, in the same format as an
unsharded run's, so either kind of run resumes the other's checkpoints. After ``fit`` a sharded model stays
sharded; serve it from its checkpoint (``GeneralistModel.from_pretrained``).
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import torch

from polymodal.engine.batch import Batch

__all__ = ["init_distributed", "rank_and_world", "shard", "average_gradients", "wants_fsdp", "apply_fsdp",
           "gathered", "full_model_state", "full_optimizer_state", "load_optimizer_state"]


def rank_and_world() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def init_distributed() -> tuple[int, int]:
    """Join the process group that ``torchrun`` describes in the environment (gloo on CPU, nccl on GPU)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("POLYMODAL_BACKEND") != "gloo" else "gloo"
        torch.distributed.init_process_group(backend)
    return rank_and_world()


def shard(batch: Batch, rank: int, world: int) -> Batch:
    """This rank's rows of a global batch (rows ``rank::world``)."""
    if world == 1:
        return batch
    keep = list(range(rank, batch.size, world))
    idx = torch.tensor(keep, dtype=torch.long)

    def take(piece: tuple) -> tuple:
        if piece[0] == "tokens":
            return ("tokens", piece[1][idx], piece[2][idx], piece[3][idx] if piece[3] is not None else None)
        return (piece[0], piece[1], {k: v[idx] for k, v in piece[2].items()})
    return Batch([take(p) for p in batch.pieces], batch.dec_input[idx], batch.target[idx], batch.weight[idx],
                 batch.allowed[idx], [batch.machines[i] for i in keep], [batch.indices[i] for i in keep],
                 batch.dec_cells[idx] if batch.dec_cells is not None else None)


def average_gradients(net: torch.nn.Module, world: int) -> None:
    """Average the gradients of a replicated model over the ranks with one flat all-reduce."""
    params = [p for p in net.parameters() if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= world
    offset = 0
    for p, g in zip(params, grads):
        n = g.numel()
        p.grad = flat[offset:offset + n].view_as(p)
        offset += n


def wants_fsdp(parallel: str, net: torch.nn.Module, world: int, min_params: int) -> bool:
    """Whether to shard: ``"fsdp"`` always (under torchrun), ``"ddp"`` never, ``"auto"`` for large models."""
    if world == 1 or parallel == "ddp":
        return False
    if parallel == "fsdp":
        return True
    return sum(p.numel() for p in net.parameters()) >= min_params


def apply_fsdp(net: torch.nn.Module, device: str) -> None:
    """Shard ``net`` in place: one FSDP unit per encoder/decoder layer, the rest (embeddings, adapters) in the
    root unit; ``net.loss`` runs the root's gather/free hooks like ``forward``."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard, register_fsdp_forward_method

    mesh = init_device_mesh(torch.device(device).type, (torch.distributed.get_world_size(),))
    for layer in [*net.backbone.encoder_layers, *net.backbone.decoder_layers]:
        fully_shard(layer, mesh=mesh)
    fully_shard(net, mesh=mesh)
    register_fsdp_forward_method(net, "loss")


def _fsdp_modules(net: torch.nn.Module) -> list[Any]:
    from torch.distributed.fsdp import FSDPModule

    return [m for m in net.modules() if isinstance(m, FSDPModule)]


@contextlib.contextmanager
def gathered(net: torch.nn.Module) -> Iterator[None]:
    """Hold the whole model on every rank (for generation); a no-op for an unsharded model."""
    modules = _fsdp_modules(net) if torch.distributed.is_initialized() else []
    for m in modules:
        m.set_reshard_after_forward(False)
        m.unshard()
    try:
        yield
    finally:
        for m in modules:
            m.reshard()
            m.set_reshard_after_forward(True)


def _options() -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, cpu_offload=True)


def full_model_state(net: torch.nn.Module, sharded: bool) -> dict[str, torch.Tensor]:
    """The whole state dict (a collective when sharded: every rank calls it; rank 0 gets the tensors)."""
    if not sharded:
        return net.state_dict()
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    return get_model_state_dict(net, options=_options())


def _names(net: torch.nn.Module, optimizer: torch.optim.Optimizer) -> list[str]:
    """Parameter names in the optimizer's order (the index keys of an unsharded optimizer's state dict)."""
    name_of = {id(p): n for n, p in net.named_parameters()}
    return [name_of[id(p)] for group in optimizer.param_groups for p in group["params"]]


def full_optimizer_state(net: torch.nn.Module, optimizer: torch.optim.Optimizer, sharded: bool) -> dict[str, Any]:
    """The optimizer state dict of an unsharded optimizer (parameters keyed by index), gathered when sharded."""
    if not sharded:
        return optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    full = get_optimizer_state_dict(net, optimizer, options=_options())
    index = {name: i for i, name in enumerate(_names(net, optimizer))}
    groups = [{**g, "params": [index[n] for n in g["params"]]} for g in full.get("param_groups", [])]
    return {"state": {index[n]: st for n, st in full.get("state", {}).items()}, "param_groups": groups}


def load_optimizer_state(net: torch.nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, Any],
                         sharded: bool) -> None:
    """Load an unsharded optimizer state dict (parameters keyed by index) into ``optimizer``."""
    if not sharded:
        optimizer.load_state_dict(state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    names = _names(net, optimizer)
    full = {"state": {names[int(i)]: st for i, st in state["state"].items()},
            "param_groups": [{**g, "params": [names[int(i)] for i in g["params"]]} for g in state["param_groups"]]}
    # strict=False: a parameter no task has updated yet (grid coordinates in a text-only run) has no state, just as
    # in an unsharded optimizer's state dict, which loads the same way
    set_optimizer_state_dict(net, optimizer, full, options=StateDictOptions(full_state_dict=True, strict=False))
