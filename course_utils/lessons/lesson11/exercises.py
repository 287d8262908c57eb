"""Lesson 11 exercises: which samples each process trains on in an epoch (shard_indices), and one accuracy from
every process's counts (global_accuracy)."""
from __future__ import annotations

import torch

from ..declare import exercise
from .checks import check_global_accuracy, check_shard_indices


@exercise(
    task="return the sample indices process `rank` of `world_size` trains on in `epoch`: one permutation drawn from "
         "(seed, epoch) alone, padded with its first indices to a multiple of world_size, every rank "
         "ceil(num_samples / world_size) of them, together covering every sample",
    check=check_shard_indices,
    hints=(
        "Every rank computes its share alone, so every rank must draw the SAME permutation: seed a torch.Generator "
        "with something all ranks know (seed + epoch), never with the rank.",
        "order = torch.randperm(num_samples, generator=torch.Generator().manual_seed(seed + epoch)).tolist(); "
        "per_rank = math.ceil(num_samples / world_size); pad order with its own first indices until it holds "
        "per_rank * world_size of them.",
        "padded = (order * (per_rank * world_size // num_samples + 1))[:per_rank * world_size]; "
        "return padded[rank::world_size] (every world_size-th index from position rank).",
    ),
)
def shard_indices(num_samples, rank, world_size, epoch, seed=0):
    """The indices process ``rank`` of ``world_size`` trains on in ``epoch``, as DistributedSampler gives them."""
    generator = torch.Generator().manual_seed(seed + epoch)          # the same on every rank: (seed, epoch) only
    order = torch.randperm(num_samples, generator=generator).tolist()
    per_rank = -(-num_samples // world_size)                          # ceil: every rank the same number
    total = per_rank * world_size
    padded = (order * (total // num_samples + 1))[:total]            # repeats of the first indices fill the end
    return padded[rank::world_size]


@exercise(
    task="return the accuracy over every rank's samples from `counts`, a list of (correct, seen) pairs, one per "
         "rank; ValueError when no rank saw a sample",
    check=check_global_accuracy,
    hints=(
        "Each rank scored its own share. The whole set's accuracy is all the correct answers over all the samples.",
        "correct = sum(int(c) for c, _ in counts); seen = sum(int(s) for _, s in counts); both before dividing.",
        "if seen == 0: raise ValueError(...); return correct / seen. (A mean of the ranks' accuracies is wrong when "
        "the shares differ in size.)",
    ),
)
def global_accuracy(counts):
    """The accuracy of all ranks' samples together, from each rank's (correct, seen)."""
    correct = sum(int(c) for c, _ in counts)                          # what dist.all_reduce would sum in a script
    seen = sum(int(s) for _, s in counts)
    if seen == 0:
        raise ValueError("no rank saw a sample: there is nothing to score")
    return correct / seen
