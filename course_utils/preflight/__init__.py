"""preflight: the mistake catalogue applied to a learner's own set-up (model, loaders, optimizer), in seconds.

Each check inspects behaviour, never the learner's objects in place: forward passes run on a copy, the
learning-rate probe trains a copy with a new optimizer of the same kind, and every global random state is put
back. A check that cannot apply (say, a dataset without file lists) says "not checked" and counts as passed;
one that fails because of the learner's objects is a cross with the error, never an exception.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tqdm.auto import tqdm

from .base import NotChecked
from .data_checks import check_class_folders, check_normalisation, check_random_validation, check_shared_files
from .model_checks import (check_duplicates, check_frozen_bn, check_frozen_in_optimizer, check_lr_probe,
                           check_missing_trainable, check_outputs)


@dataclass(frozen=True)
class Finding:
    """One check: the catalogue id it is about, whether the set-up passed it, and what was measured."""

    id: str
    ok: bool
    message: str

    @property
    def line(self) -> str:
        """'✔ id: message', '• id: not checked: ...', or '✘ id: message  → show_symptom(id)' (when it has an entry)."""
        from ..registry import all_mistakes

        mark = "•" if self.message.startswith("not checked") else ("✔" if self.ok else "✘")
        shown = not self.ok and self.id in all_mistakes()
        return f"{mark} {self.id}: {self.message}" + (f"  → show_symptom({self.id!r})" if shown else "")


CHECKS: tuple[tuple[str, Callable[..., str]], ...] = (
    ("kept_1000_outputs", check_outputs),
    ("skip_normalization", check_normalisation),
    ("augment_validation", check_random_validation),
    ("bn_stats_drift", check_frozen_bn),
    ("includes_frozen_params", check_frozen_in_optimizer),
    ("optimizer_before_head_replacement", check_missing_trainable),
    ("duplicate_params", check_duplicates),
    ("lr_too_high", check_lr_probe),
    ("class_to_idx_mismatch", check_class_folders),
    ("overlapping_splits", check_shared_files),
)


def preflight(model, train_loader, val_loader, optimizer, weights=None, show: bool = True) -> list[Finding]:
    """Check a fine-tuning set-up against the catalogue's mistakes; print one line per check; return them."""
    findings = []
    for mistake_id, check in tqdm(CHECKS, desc="preflight", unit="check", disable=not show):
        try:
            findings.append(Finding(mistake_id, True, check(model, train_loader, val_loader, optimizer, weights)))
        except NotChecked as reason:
            findings.append(Finding(mistake_id, True, str(reason)))
        except AssertionError as problem:
            findings.append(Finding(getattr(problem, "mistake_id", None) or mistake_id, False, str(problem)))
        except Exception as exc:  # noqa: BLE001  (the learner's objects failed: that is the finding)
            findings.append(Finding(mistake_id, False, f"the check could not run: {type(exc).__name__}: {exc}"))
    if show:
        for finding in findings:
            print(finding.line)
        failed = sum(not f.ok for f in findings)
        print(f"{len(findings) - failed} of {len(findings)} checks passed" + ("." if not failed else
              f"; {failed} to look at (each line names the catalogue entry that shows the mistake)."))
    return findings
