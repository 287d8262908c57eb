"""One recipe in one process or many (torchrun): who this process is, which samples it trains on, the counts summed
across processes, and the few things only rank 0 does. In one process every helper is a no-op."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, Subset


@dataclass(frozen=True)
class World:
    """This process's place among the processes torchrun started: rank, how many (size), local rank, device."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """Whether this process prints and writes files (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def backend(self) -> str:
        """gloo for CPUs, NCCL between CUDA devices."""
        return "nccl" if self.device.type == "cuda" else "gloo"


def start_world(device: torch.device) -> World:
    """The World torchrun describes in the environment (RANK, WORLD_SIZE, LOCAL_RANK), its process group started
    (gloo on the CPU, NCCL on CUDA, each process on GPU LOCAL_RANK); one process when WORLD_SIZE is unset or 1."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
        torch.cuda.set_device(device)
    if size <= 1:
        return World(device=device)
    world = World(int(os.environ["RANK"]), size, local_rank, device)
    dist.init_process_group(world.backend, timeout=timedelta(hours=2))  # rank 0 may run the frozen trunk for long
    return world


def stop_world(world: World) -> None:
    """Leave the process group (at the end of a run, so that torchrun sees a clean exit)."""
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    """Wait here until every process has arrived."""
    if world.distributed:
        dist.barrier()


def first_on_rank0(world: World, make):
    """make() in rank 0, then, after a barrier, in the others: what it writes once per machine (generated images, a
    pooled copy of a folder, the elpv cells) is written by one process, and the others find it ready."""
    made = make() if world.main else None
    barrier(world)
    return made if world.main else make()


def summed(values: list[float], world: World) -> list[float]:
    """``values`` summed over every process (counts, sums of losses): each process gets the totals."""
    if not world.distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=world.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def epoch_loader(dataset, batch_size: int, epoch: int, seed: int, world: World = World()) -> DataLoader:
    """This process's shuffled training batches for ``epoch``: DistributedSampler's share (one of ``world.size``,
    padded with repeats to equal length) of a permutation drawn from (seed, epoch) alone, so the processes agree;
    with one process, the whole permutation."""
    sampler = DistributedSampler(dataset, num_replicas=world.size, rank=world.rank, shuffle=True, seed=seed,
                                 drop_last=False)
    sampler.set_epoch(epoch)  # without it every epoch repeats the first one's order
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)


def shard(dataset, world: World = World()):
    """This process's share of ``dataset`` for evaluation: every ``world.size``-th sample from ``world.rank``, each
    sample in exactly one share (no padding, so the summed counts are the whole set's)."""
    if not world.distributed:
        return dataset
    return Subset(dataset, range(world.rank, len(dataset), world.size))


def shard_indices(num_samples: int, rank: int, world_size: int, epoch: int, seed: int = 0) -> list[int]:
    """The indices process ``rank`` of ``world_size`` trains on in ``epoch``, as DistributedSampler(shuffle=True,
    drop_last=False) gives them after set_epoch(epoch): one permutation from (seed, epoch), padded with its first
    indices to a multiple of world_size, every world_size-th place from ``rank``."""
    generator = torch.Generator().manual_seed(seed + epoch)
    order = torch.randperm(num_samples, generator=generator).tolist()
    per_rank = -(-num_samples // world_size)
    padded = (order * (per_rank * world_size // max(num_samples, 1) + 1))[:per_rank * world_size]
    return padded[rank::world_size]


FAULT_VARIABLE = "COURSE_FAULT"  # "RANK:EPOCH:BATCH": that process kills itself there (how the tests stop a run)


def fault_point(batches, world: World, epoch: int):
    """``batches`` as they are, unless $COURSE_FAULT names this rank and epoch: then the process kills itself
    (SIGKILL, as an out-of-memory killer or a lost machine would) before that batch."""
    spec = os.environ.get(FAULT_VARIABLE, "")
    try:
        rank, at_epoch, at_batch = (int(part) for part in spec.split(":"))
    except ValueError:
        return batches
    if (rank, at_epoch) != (world.rank, epoch):
        return batches

    def dying():
        for index, batch in enumerate(batches):
            if index == at_batch:
                import signal
                os.kill(os.getpid(), signal.SIGKILL)
            yield batch
    return dying()
