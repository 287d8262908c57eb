"""Lesson 11's checkers: each rank's share of an epoch (shard_indices), judged by the rules every correct sharding
meets rather than by one order, and the accuracy of every rank's share together (global_accuracy)."""
from __future__ import annotations

import math
from collections import Counter

from ....checking import expect
from ....checking.describe import describe
from ....checking.sandbox import LearnerError, Mismatch, call_learner

# (num_samples, world_size, epoch, seed): a remainder first (where shards go wrong), then exact splits, one process,
# more processes than samples, another seed
CASES = ((10, 3, 0, 0), (16, 2, 1, 0), (7, 4, 2, 5), (12, 1, 0, 3), (3, 5, 0, 0), (101, 8, 4, 1))
ADVICE = ("draw one permutation from a generator seeded with seed + epoch (the same on every rank), pad it with "
          "its own first indices to a multiple of world_size, and keep every world_size-th index from position rank.")


def _share(answer, n: int, rank: int, world: int, epoch: int, seed: int) -> list[int]:
    want = f"a list of ceil({n} / {world}) = {-(-n // world)} sample indices in [0, {n})"
    got = expect.on_copies(answer, n, rank, world, epoch, seed)
    items = got.tolist() if hasattr(got, "tolist") and not isinstance(got, (list, tuple)) else got
    if not isinstance(items, (list, tuple)):
        raise Mismatch(want, describe(got), "return a list of ints (list(...) or .tolist()).")
    values = []
    for item in items:
        number = expect.plain_number(item)
        if number is None or not isinstance(number, int) or not 0 <= number < n:
            raise Mismatch(want, f"a list holding {describe(item)}", f"every item must be an index in [0, {n}). "
                           + ADVICE)
        values.append(number)
    return values


def _shards(answer, n: int, world: int, epoch: int, seed: int) -> list[list[int]]:
    return [_share(answer, n, rank, world, epoch, seed) for rank in range(world)]


def _judge_case(answer, n: int, world: int, epoch: int, seed: int) -> list[list[int]]:
    shards = _shards(answer, n, world, epoch, seed)
    where = f"num_samples={n}, world_size={world}, epoch={epoch}, seed={seed}"
    per_rank = -(-n // world)
    lengths = [len(s) for s in shards]
    want = (f"for {where}: {per_rank} indices on every rank (ceil({n} / {world})), together covering all {n} samples, "
            f"only the {per_rank * world - n} padding place(s) repeated")
    if len(set(lengths)) > 1:
        raise Mismatch(want, f"ranks 0..{world - 1} got {lengths} indices", "every rank must get the same number "
                       "(ranks with fewer batches would wait forever for the others in DDP's gradient averaging): "
                       "pad the permutation with its first indices to a multiple of world_size. " + ADVICE,
                       "unequal_shards")
    if lengths[0] < per_rank and len(set().union(*map(set, shards))) < n and lengths[0] * world <= n:
        raise Mismatch(want, f"{lengths[0]} indices per rank: {n - lengths[0] * world} sample(s) in no rank at all",
                       "keep every sample (drop_last=False): pad instead of cutting the remainder. " + ADVICE,
                       "drops_remainder")
    if lengths[0] != per_rank:
        raise Mismatch(want, f"{lengths[0]} indices per rank", ADVICE)
    counts = Counter(i for s in shards for i in s)
    missing = [i for i in range(n) if i not in counts]
    repeated = sum(c - 1 for c in counts.values())
    if missing or repeated != per_rank * world - n:
        raise Mismatch(want, f"{len(missing)} sample(s) in no rank and {repeated} repeated place(s) (the ranks' "
                       "shares overlap)", "every rank must cut the SAME permutation: seed it with seed + epoch only, "
                       "never with the rank. " + ADVICE, "ranks_disagree")
    return shards


def check_shard_indices(answer) -> None:
    """Judge shard_indices by its rules on remainders, exact splits, one process, more processes than samples:
    equal shares of ceil(n / world_size), every sample covered with only the padding repeated, the same list for the
    same arguments, another order for another epoch, shuffled.

    Names: `unequal_shards`, `drops_remainder`, `ranks_disagree`, `ignores_epoch`.
    """
    for n, world, epoch, seed in CASES:
        shards = _judge_case(answer, n, world, epoch, seed)
        if _shards(answer, n, world, epoch, seed) != shards:
            raise Mismatch("the same lists for the same arguments (each rank computes its share alone)",
                           f"other lists on a second call with num_samples={n}, world_size={world}, epoch={epoch}",
                           "use a torch.Generator seeded with seed + epoch, not the global random state. " + ADVICE)
    n, world = 16, 2
    epochs = [_shards(answer, n, world, epoch, 0) for epoch in (0, 1, 2)]
    if epochs[0] == epochs[1] == epochs[2]:
        raise Mismatch("another order in every epoch", "the same shares in epochs 0, 1 and 2",
                       "seed the permutation with seed + epoch, so that each epoch shuffles anew. " + ADVICE,
                       "ignores_epoch")
    if all(shard == sorted(shard) for shard in epochs[0]) and all(shard == sorted(shard) for shard in epochs[1]):
        raise Mismatch("shuffled shares", f"indices in increasing order on every rank ({epochs[0][0][:5]}...)",
                       "shuffle: torch.randperm(num_samples, generator=...) gives the permutation. " + ADVICE)


def check_global_accuracy(answer) -> None:
    """Judge global_accuracy on equal and unequal shares, one rank, a rank with no sample, NumPy and tensor counts;
    ValueError when no rank saw a sample.

    Names: `unreduced_metric`, `mean_of_rank_accuracies`.
    """
    import numpy as np
    import torch
    cases = (("2 ranks, 20 samples each", [(15, 20), (12, 20)]),
             ("3 ranks with unequal shares (34, 33, 33 samples)", [(30, 34), (11, 33), (20, 33)]),
             ("one rank", [(7, 9)]),
             ("2 ranks, the second with no sample", [(3, 4), (0, 0)]),
             ("2 ranks, counts as NumPy integers", [(np.int64(5), np.int64(8)), (np.int64(1), np.int64(2))]),
             ("2 ranks, counts as tensors", [(torch.tensor(9), torch.tensor(10)), (torch.tensor(4), torch.tensor(10))]))
    for description, counts in cases:
        correct = sum(int(c) for c, _ in counts)
        seen = sum(int(s) for _, s in counts)
        expected = correct / seen
        want = f"{expected:.6g} ({correct} correct of {seen} samples in all) for {description}"
        got = expect.number(expect.on_copies(answer, counts), want, "return a Python float: the summed correct "
                            "counts over the summed sample counts.")
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        shares = [int(c) / int(s) for c, s in counts if int(s)]
        alone = [rank for rank, (c, s) in enumerate(counts) if int(s) and math.isclose(got, int(c) / int(s),
                                                                                      rel_tol=1e-9)]
        if len(counts) > 1 and alone:
            raise Mismatch(want, f"{got:.6g}: rank {alone[0]}'s share alone", "add up every rank's counts first (in "
                           "a script, dist.all_reduce does it), then divide.", "unreduced_metric")
        if math.isclose(got, sum(shares) / len(shares), rel_tol=1e-9) or math.isclose(
                got, sum(int(c) / max(int(s), 1) for c, s in counts) / len(counts), rel_tol=1e-9):
            raise Mismatch(want, f"{got:.6g}: the mean of the ranks' accuracies",
                           "sum the correct counts and the sample counts separately, then divide: a mean of "
                           "accuracies weighs a rank with few samples like one with many.", "mean_of_rank_accuracies")
        raise Mismatch(want, f"{got:.6g}", "sum the correct counts, sum the sample counts, divide.")
    want = "ValueError when no rank saw a sample"
    try:
        result = call_learner(answer, [(0, 0), (0, 0)])
    except LearnerError as err:
        if err.original_type is not None and issubclass(err.original_type, ValueError):
            return
        raise Mismatch(want, f"raised {err}", "check the total first: if it is 0, raise ValueError with a message "
                       "saying there is nothing to score.") from None
    raise Mismatch(want, f"returned {describe(result)}", "check the total first: if it is 0, raise ValueError.")
