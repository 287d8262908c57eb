"""Lesson 11 answers the checkers know: one wrong answer per named mistake, and correct answers written other ways."""
import math

import numpy as np
import torch
from torch.utils.data import DistributedSampler

from ..declare import alternative, wrong_answer

# ---------------------------------------------------------------- shard_indices


@wrong_answer("shard_indices")
def ignores_epoch(num_samples, rank, world_size, epoch, seed=0):
    """Permutation seeded without the epoch: every epoch the same order"""
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed)).tolist()
    per_rank = math.ceil(num_samples / world_size)
    padded = (order * (per_rank * world_size // num_samples + 1))[:per_rank * world_size]
    return padded[rank::world_size]


@wrong_answer("shard_indices")
def ranks_disagree(num_samples, rank, world_size, epoch, seed=0):
    """Each rank seeds its own permutation with its rank"""
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed + epoch + rank)).tolist()
    per_rank = math.ceil(num_samples / world_size)
    padded = (order * (per_rank * world_size // num_samples + 1))[:per_rank * world_size]
    return padded[rank::world_size]


@wrong_answer("shard_indices")
def drops_remainder(num_samples, rank, world_size, epoch, seed=0):
    """The remainder cut off instead of padded"""
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
    kept = num_samples // world_size * world_size                 # the last num_samples % world_size are lost
    return order[:kept][rank::world_size]


@wrong_answer("shard_indices")
def unequal_shards(num_samples, rank, world_size, epoch, seed=0):
    """Every world_size-th index, without padding: some ranks get one more"""
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
    return order[rank::world_size]


@alternative("shard_indices")
def shard_with_distributed_sampler(num_samples, rank, world_size, epoch, seed=0):
    sampler = DistributedSampler(range(num_samples), num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return list(sampler)


@alternative("shard_indices")
def contiguous_blocks(num_samples, rank, world_size, epoch, seed=0):
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
    per_rank = math.ceil(num_samples / world_size)
    while len(order) < per_rank * world_size:
        order += order[:per_rank * world_size - len(order)]
    return order[rank * per_rank:(rank + 1) * per_rank]              # a block each instead of a stride


@alternative("shard_indices")
def shard_with_numpy(num_samples, rank, world_size, epoch, seed=0):
    order = np.random.default_rng([seed, epoch]).permutation(num_samples)
    per_rank = -(-num_samples // world_size)
    padded = np.resize(order, per_rank * world_size)               # np.resize repeats the array to fill
    return padded[rank::world_size]                                # NumPy integers


# ---------------------------------------------------------------- global_accuracy

@wrong_answer("global_accuracy")
def unreduced_metric(counts):
    """Rank 0's own share: the accuracy a script prints without all_reduce"""
    correct, seen = counts[0]
    if int(seen) == 0:
        raise ValueError("nothing to score")
    return int(correct) / int(seen)


@wrong_answer("global_accuracy")
def mean_of_rank_accuracies(counts):
    """The mean of the ranks' accuracies"""
    shares = [int(c) / int(s) for c, s in counts if int(s)]
    if not shares:
        raise ValueError("nothing to score")
    return sum(shares) / len(shares)


@alternative("global_accuracy")
def accuracy_with_a_tensor(counts):
    totals = torch.tensor([[float(c), float(s)] for c, s in counts], dtype=torch.float64).sum(0)
    if totals[1] == 0:
        raise ValueError("no samples")
    return (totals[0] / totals[1]).item()


@alternative("global_accuracy")
def accuracy_with_numpy(counts):
    correct, seen = np.asarray([[int(c), int(s)] for c, s in counts]).sum(axis=0)
    if seen == 0:
        raise ValueError("no samples")
    return correct / seen                                          # a NumPy float
