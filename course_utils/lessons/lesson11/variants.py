"""Lesson 11: more ways of committing each named mistake (the seed alone, random.Random, a seed per rank through
NumPy, drop_last=True, blocks without padding, torch.chunk, np.array_split); the tests check that the checker
names each one's id."""
import random

import numpy as np
import torch
from torch.utils.data import DistributedSampler

from ..declare import same_mistake

# ---------------------------------------------------------------- shard_indices


def _padded_stride(order, rank, world_size):
    per_rank = -(-len(order) // world_size)
    return (order * (per_rank * world_size // len(order) + 1))[:per_rank * world_size][rank::world_size]


@same_mistake("shard_indices", "ignores_epoch")
def sampler_without_set_epoch(num_samples, rank, world_size, epoch, seed=0):
    sampler = DistributedSampler(range(num_samples), num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
    return list(sampler)                                           # set_epoch(epoch) forgotten


@same_mistake("shard_indices", "ignores_epoch")
def python_random_seeded_once(num_samples, rank, world_size, epoch, seed=0):
    order = list(range(num_samples))
    random.Random(seed).shuffle(order)                             # the epoch plays no part
    return _padded_stride(order, rank, world_size)


@same_mistake("shard_indices", "ranks_disagree")
def numpy_seed_per_rank(num_samples, rank, world_size, epoch, seed=0):
    order = np.random.default_rng([seed, epoch, rank]).permutation(num_samples).tolist()
    return _padded_stride(order, rank, world_size)


@same_mistake("shard_indices", "ranks_disagree")
def sampler_seeded_with_rank(num_samples, rank, world_size, epoch, seed=0):
    sampler = DistributedSampler(range(num_samples), num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=seed + 1000 * rank)          # "each process its own seed"
    sampler.set_epoch(epoch)
    return list(sampler)


@same_mistake("shard_indices", "drops_remainder")
def sampler_dropping_last(num_samples, rank, world_size, epoch, seed=0):
    sampler = DistributedSampler(range(num_samples), num_replicas=world_size, rank=rank, shuffle=True, seed=seed,
                                 drop_last=True)
    sampler.set_epoch(epoch)
    return list(sampler)


@same_mistake("shard_indices", "drops_remainder")
def floor_blocks(num_samples, rank, world_size, epoch, seed=0):
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
    size = num_samples // world_size
    return order[rank * size:(rank + 1) * size]


@same_mistake("shard_indices", "unequal_shards")
def torch_chunks(num_samples, rank, world_size, epoch, seed=0):
    order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed + epoch))
    return order.tensor_split(world_size)[rank].tolist()           # sizes differ by one


@same_mistake("shard_indices", "unequal_shards")
def numpy_array_split(num_samples, rank, world_size, epoch, seed=0):
    order = np.random.default_rng(seed + epoch).permutation(num_samples)
    return np.array_split(order, world_size)[rank].tolist()


# ---------------------------------------------------------------- global_accuracy

@same_mistake("global_accuracy", "unreduced_metric")
def last_rank_only(counts):
    correct, seen = counts[-1]
    return int(correct) / max(int(seen), 1)


@same_mistake("global_accuracy", "mean_of_rank_accuracies")
def mean_with_numpy(counts):
    if all(int(s) == 0 for _, s in counts):
        raise ValueError("nothing to score")
    return float(np.mean([int(c) / max(int(s), 1) for c, s in counts]))


@same_mistake("global_accuracy", "unreduced_metric")
def first_rank_as_tensor(counts):
    correct, seen = (torch.as_tensor(value).double() for value in counts[0])   # what rank 0 printed
    if seen == 0:
        raise ValueError("nothing to score")
    return (correct / seen).item()


@same_mistake("global_accuracy", "mean_of_rank_accuracies")
def mean_of_tensor_accuracies(counts):
    shares = torch.tensor([int(c) / int(s) for c, s in counts if int(s)], dtype=torch.float64)
    if len(shares) == 0:
        raise ValueError("nothing to score")
    return shares.mean().item()
