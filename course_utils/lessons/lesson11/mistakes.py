"""Lesson 11 mistakes, each measured in two processes joined by torch.distributed (gloo): no DistributedSampler,
no set_epoch, ranks that shuffle with their own seeds, a metric of one rank's share, a checkpoint written by every
rank."""
from __future__ import annotations

from ...catalogue import Variant
from ...catalogue.ranks import RankMistake

DATA_SETUP = """\
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

dataset = TensorDataset(torch.arange(16))          # 16 samples; each one is its own index, so we can count them
"""


def _flat(per_rank: list) -> list[int]:
    return [i for indices in per_rank for i in indices]


def _summarize_sampler(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values["seen"], fixed.values["seen"]
    same = b[0] == b[1]
    return (f"without a DistributedSampler each of the 2 processes trained on all {len(b[0])} samples in one epoch "
            f"({len(_flat(b))} sample-steps for 16 samples, twice the work), in {'the same' if same else 'another'} "
            f"order on both ranks; with it, {len(f[0])} and {len(f[1])} samples, {len(set(_flat(f)))} distinct: "
            f"every sample once")


def _summarize_set_epoch(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values["orders"], fixed.values["orders"]
    distinct = lambda orders: len({tuple(order) for order in orders})  # noqa: E731
    return (f"over 3 epochs without set_epoch, rank 0 trained in {distinct(b[0])} distinct order(s) of its samples "
            f"(rank 1: {distinct(b[1])}): every epoch repeated the first; with sampler.set_epoch(epoch), "
            f"{distinct(f[0])} and {distinct(f[1])} distinct orders")


def _coverage(per_rank: list) -> tuple[int, int]:
    seen = _flat(per_rank)
    return sum(seen.count(i) > 1 for i in range(16)), sum(i not in seen for i in range(16))


def _summarize_disagree(broken: Variant, fixed: Variant) -> str:
    twice, never = _coverage(broken.values["mine"])
    fixed_twice, fixed_never = _coverage(fixed.values["mine"])
    return (f"each rank shuffled with its own seed and kept its half: of the 16 samples, {twice} were trained on "
            f"twice in the epoch and {never} never; with one permutation from (seed, epoch) on every rank: "
            f"{fixed_twice} twice, {fixed_never} never")


def _summarize_metric(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    return (f"each rank printed the accuracy of its own 20 validation samples: {b['accuracy'][0]:.2f} on rank 0, "
            f"{b['accuracy'][1]:.2f} on rank 1; the whole set of 40 scores {b['whole'][0]:.2f}. With the counts "
            f"summed across ranks (all_reduce), both printed {f['accuracy'][0]:.2f} and {f['accuracy'][1]:.2f}")


def _summarize_saving(broken: Variant, fixed: Variant) -> str:
    b, f = broken.values, fixed.values
    (start0, end0), (start1, end1) = b["span"]
    overlap = min(end0, end1) - max(start0, start1)
    when = (f"the two writes overlapped for {overlap * 1000:.0f} ms" if overlap > 0 else
            "this time the two writes did not overlap, nothing ordered them")
    return (f"every rank called torch.save on the same checkpoint path: {sum(b['wrote'])} writes of one 1 MB file "
            f"({when}); the fix: {sum(f['wrote'])} write, by rank 0, after a barrier, to a temporary file renamed "
            f"into place; the file loads on both ranks: {all(f['loads'])}")


MISTAKES = [
    RankMistake(
        id="no_distributed_sampler",
        title="Two processes, no DistributedSampler",
        setup=DATA_SETUP,
        broken_code="""\
loader = DataLoader(dataset, batch_size=4, shuffle=True)          # the one-process loader, unchanged
seen = [int(i) for (batch,) in loader for i in batch]            # what this rank trains on in one epoch
""",
        fixed_code="""\
sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=0)
sampler.set_epoch(0)
loader = DataLoader(dataset, batch_size=4, sampler=sampler)     # this rank's share of one permutation
seen = [int(i) for (batch,) in loader for i in batch]
""",
        record=("seen",),
        summarize=_summarize_sampler,
        explanation="A DataLoader knows nothing about other processes: under torchrun each process builds the same "
                    "loader with the same seed and trains on the whole dataset, so an epoch costs N times the work "
                    "and DDP averages N copies of the same gradient. DistributedSampler gives each rank every N-th "
                    "index of one shared permutation (num_replicas=N, rank=r); pass it as the loader's sampler "
                    "(not shuffle=True).",
    ),
    RankMistake(
        id="forgot_set_epoch",
        title="DistributedSampler without set_epoch",
        setup=DATA_SETUP + "sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True)\n",
        broken_code="""\
orders = []
for epoch in range(3):
    orders.append([int(i) for (batch,) in DataLoader(dataset, batch_size=4, sampler=sampler) for i in batch])
""",
        fixed_code="""\
orders = []
for epoch in range(3):
    sampler.set_epoch(epoch)                                    # the permutation is drawn from seed + epoch
    orders.append([int(i) for (batch,) in DataLoader(dataset, batch_size=4, sampler=sampler) for i in batch])
""",
        record=("orders",),
        summarize=_summarize_set_epoch,
        explanation="DistributedSampler draws its permutation from seed + epoch so that every rank draws the same one "
                    "without talking to the others; it cannot know the epoch unless told. Without "
                    "sampler.set_epoch(epoch) at the start of each epoch, every epoch repeats the first one's order "
                    "and batches: shuffling is silently off.",
    ),
    RankMistake(
        id="ranks_disagree",
        title="Each rank shuffles with its own seed",
        setup=DATA_SETUP,
        broken_code="""\
torch.manual_seed(rank)                                         # a "different seed per process"
order = torch.randperm(len(dataset)).tolist()
mine = order[rank::world_size]                                  # this rank's half of ITS OWN permutation
""",
        fixed_code="""\
generator = torch.Generator().manual_seed(0 + 0)                # seed + epoch: the same on every rank
order = torch.randperm(len(dataset), generator=generator).tolist()
mine = order[rank::world_size]                                  # this rank's half of THE permutation
""",
        record=("mine",),
        summarize=_summarize_disagree,
        explanation="Sharding by rank only partitions the data if every rank cuts the same permutation. With a seed "
                    "per process (a common habit for augmentation), each rank keeps its half of a different "
                    "shuffle: some samples land in both halves and others in neither, every epoch. Draw the order "
                    "from values all ranks share (seed and epoch, as DistributedSampler does) and use per-rank "
                    "seeds only for augmentation and dropout.",
    ),
    RankMistake(
        id="unreduced_metric",
        title="Each rank reports its own share's accuracy",
        setup="""\
x = torch.randn(40, 8, generator=torch.Generator().manual_seed(1))     # 40 validation samples
y = (x[:, 0] + 0.8 * torch.randn(40, generator=torch.Generator().manual_seed(2)) > 0).long()
model = nn.Linear(8, 2)                                                # the same weights on every rank (seed 0)
with torch.no_grad():
    model.weight[0], model.weight[1] = -x.new_ones(8) * 0.1, x.new_ones(8) * 0.1
mine = slice(rank, None, world_size)                                   # this rank's 20 samples
whole = (model(x).argmax(1) == y).float().mean().item()                # for comparison: all 40 at once
""",
        broken_code="""\
correct = (model(x[mine]).argmax(1) == y[mine]).sum()
accuracy = (correct / len(y[mine])).item()                     # this rank's share only
""",
        fixed_code="""\
counts = torch.tensor([(model(x[mine]).argmax(1) == y[mine]).sum().item(), len(y[mine])], dtype=torch.float64)
dist.all_reduce(counts)                                        # summed over the ranks: the whole set's counts
accuracy = (counts[0] / counts[1]).item()
""",
        record=("accuracy", "whole"),
        summarize=_summarize_metric,
        explanation="With validation sharded, each process sees only its share: its accuracy is a noisy estimate "
                    "from fewer samples, different on each rank, and rank 0's printout is not the model's score. "
                    "Sum the counts (correct, seen, loss times seen) with dist.all_reduce and divide after: every "
                    "rank then holds the whole set's number. Averaging the ranks' accuracies is only right when the "
                    "shares are the same size.",
    ),
    RankMistake(
        id="saved_on_every_rank",
        title="Every rank writes the checkpoint",
        setup="""\
import time
model = nn.Linear(512, 512)                                     # identical on every rank after DDP's averaging
path = shared_dir / "checkpoint.pt"
dist.barrier()                                                  # the end of an epoch: both ranks reach it together
""",
        broken_code="""\
started = time.time()
torch.save(model.state_dict(), path)                            # every rank, the same file, nothing to order them
span = (started, time.time())
wrote = 1
loads = None
""",
        fixed_code="""\
dist.barrier()                                                  # every rank has finished the epoch
wrote = 0
if rank == 0:                                                   # one writer, whole or not at all
    torch.save(model.state_dict(), path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)
    wrote = 1
dist.barrier()                                                  # nobody reads it before it is there
loads = sorted(torch.load(path, weights_only=True)) == sorted(model.state_dict())
""",
        record=("wrote", "loads", "span"),
        summarize=_summarize_saving,
        explanation="After DDP's step the weights are the same on every rank, so one copy is enough; N processes "
                    "writing the same path at once waste I/O and can interleave into a corrupt file, or leave a "
                    "half-written one if a rank dies mid-write. Let rank 0 write (after a barrier, so the epoch is "
                    "over everywhere), to a temporary file that it renames into place: a reader then sees the old "
                    "file or the new one, never half of one.",
    ),
]
