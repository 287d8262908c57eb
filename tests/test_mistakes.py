"""Every catalogue entry runs, and its measured fingerprint is really there (not merely printed)."""
import html
import math
import re

import pytest
import torch

from course_utils import run_symptom, show_symptom
from course_utils.checking.explain import EXPLANATIONS
from course_utils.lessons.lesson02.mistakes import SOFTMAX_FLOOR
from course_utils.registry import all_exercises, all_mistakes, derived_mistakes, scripted_mistakes

REQUIRED = {"hwc_not_permuted", "view_instead_of_permute", "grayscale_not_expanded", "flatten_all",
            "float_targets", "forgot_zero_grad", "softmax_before_ce", "lr_too_high", "forgot_eval",
            "wrong_in_features", "skip_normalization", "augment_validation", "class_to_idx_mismatch",
            "kept_1000_outputs", "optimizer_before_head_replacement", "eval_instead_of_freeze", "bn_stats_drift",
            "froze_everything", "full_finetune_tiny_data", "selected_on_test", "overlapping_splits",
            "accuracy_hides_missed_defects", "shapes_backbone_on_real_images", "threshold_chosen_on_test", "no_relu",
            "hooks_left", "no_distributed_sampler", "forgot_set_epoch", "ranks_disagree", "unreduced_metric",
            "saved_on_every_rank"}


@pytest.fixture(scope="module")
def reports():
    return {mistake_id: run_symptom(mistake_id) for mistake_id in scripted_mistakes()}


def test_catalogue_holds_the_required_entries():
    assert REQUIRED <= set(scripted_mistakes())


def test_every_scripted_entry_is_fingerprinted_below(reports):
    tested = {name[len("test_"):] for name in globals() if name[len("test_"):] in scripted_mistakes()}
    assert tested == set(scripted_mistakes()), "each scripted catalogue entry needs its own fingerprint test"


def test_every_mistake_a_checker_names_can_be_shown():
    named = {mistake for exercise in all_exercises().values() for mistake in exercise.wrong_answers}
    assert named <= set(all_mistakes())


@pytest.mark.parametrize("key", sorted(derived_mistakes()), ids=lambda k: f"{k[0]}-{k[1]}")
def test_derived_entry_shows_the_mistake_without_the_solution(key):
    name, mistake = key
    report = run_symptom(mistake, name)
    broken, fixed = report.broken.values["result"], report.fixed.values["result"]
    assert broken.mistake == mistake and broken.status == "failed" and fixed.passed
    text, page = report.to_text(), report.to_html()
    # a title written for people: the wrong answer's one-line docstring, not the id with its underscores
    title = report.mistake.title
    assert report.mistake.answer.__doc__ and title.split(" (in `")[0] != mistake.replace("_", " ").capitalize()
    assert len(title.split(" (in `")[0]) <= 72
    assert "fails the checker" in text and f"correct `{name}` passes the checker" in report.symptom
    # the reference solution's own lines are never shown (the exercise would be spoiled)
    solution_only = [line.strip() for line in report.mistake.fixed_code.splitlines()[1:]
                     if line.strip() and line.strip() not in report.mistake.broken_code]
    code = text.replace(report.mistake.explanation, "").replace(report.symptom, "").replace(title, "")  # may name a call
    shown = [line for line in solution_only if len(line) > 12 and line in code]
    assert not shown, f"{mistake}: the symptom box shows lines of the solution: {shown}"
    lines = report.mistake.mistaken_lines
    assert all(line == "..." or line.strip() in report.mistake.broken_code for line in lines)
    assert html.escape(report.symptom) in page and "The fix, in words" in text


def test_mistaken_lines_show_what_differs_and_nothing_of_the_reference():
    from course_utils.catalogue.derived import mistaken_lines
    broken = "def f(x):\n    y = x * 2\n    z = y + 1   # a comment\n    return z\n"
    reference = "def f(x):\n    y = x * 3\n    z = y + 1\n    return z\n"
    assert mistaken_lines(broken, reference) == ["y = x * 2"]
    missing = "def f(x):\n    y = x * 3\n    return y\n"
    assert mistaken_lines(missing, "def f(x):\n    y = x * 3\n    y = y + 1\n    return y\n") == []


def test_every_entry_runs_the_code_it_shows_and_reports_it(reports):
    for report in reports.values():
        assert report.broken.code == report.mistake.broken_code and report.fixed.code == report.mistake.fixed_code
        assert report.fixed.error is None, f"{report.mistake.id}: the fix itself fails: {report.fixed.error}"
        text = report.to_text()
        assert report.symptom in text and report.mistake.explanation in text and "--- broken" in text
        assert "Measured symptom" in report._repr_html_()


def _channel_error(report, got):
    assert report.broken.error.startswith("RuntimeError")
    match = re.search(r"expected input\[[^\]]*\] to have 3 channels, but got (\d+) channels", report.broken.error)
    assert match and int(match.group(1)) == got


def test_hwc_not_permuted(reports):
    report = reports["hwc_not_permuted"]
    height = report.broken.values["batch"].shape[1]       # [1, H, W, 3]: the conv reads H as channels
    _channel_error(report, got=height)
    assert tuple(report.fixed.values["features"].shape[:2]) == (1, 8)


def test_view_instead_of_permute(reports):
    report = reports["view_instead_of_permute"]
    broken, fixed = report.broken.values["batch"], report.fixed.values["batch"]
    assert report.broken.error is None and broken.shape == fixed.shape
    assert (broken - fixed).abs().gt(1e-6).float().mean() > 0.5          # most pixels moved
    assert torch.equal(broken.flatten().sort().values, fixed.flatten().sort().values)  # same values, scrambled
    assert report.figure_png().startswith(b"\x89PNG")


def test_grayscale_not_expanded(reports):
    report = reports["grayscale_not_expanded"]
    _channel_error(report, got=1)
    assert report.fixed.values["batch"].shape[1] == 3


def test_flatten_all(reports):
    report = reports["flatten_all"]
    assert "mat1 and mat2 shapes cannot be multiplied (1x2048 and 512x5)" in report.broken.error
    assert tuple(report.fixed.values["logits"].shape) == (4, 5)


def test_float_targets(reports):
    report = reports["float_targets"]
    assert "expected target dtype to be Long" in report.broken.error
    assert report.fixed.values["targets"].dtype == torch.int64 and torch.isfinite(report.fixed.values["loss"])


def test_forgot_zero_grad(reports):
    report = reports["forgot_zero_grad"]
    broken, fixed = report.broken.values, report.fixed.values
    first_steps = broken["grad_norms"][:8]
    assert all(b > a for a, b in zip(first_steps, first_steps[1:])), "gradient norm grows step after step"
    assert max(broken["grad_norms"]) > 5 * max(fixed["grad_norms"])
    rises = lambda series: sum(b > a for a, b in zip(series, series[1:]))  # noqa: E731
    assert rises(fixed["losses"]) == 0 and rises(broken["losses"]) >= 10   # smooth vs erratic
    assert report.figure_png().startswith(b"\x89PNG")


def test_softmax_before_ce(reports):
    report = reports["softmax_before_ce"]
    broken, fixed = report.broken.values["losses"], report.fixed.values["losses"]
    assert min(broken) > SOFTMAX_FLOOR                           # never below the floor
    assert fixed[-1] < SOFTMAX_FLOOR / 10                        # the fix goes far below it
    assert fixed[19] < broken[19]                                # and learns faster


def test_lr_too_high(reports):
    report = reports["lr_too_high"]
    broken, fixed = report.broken.values["losses"], report.fixed.values["losses"]
    assert any(not math.isfinite(value) for value in broken)
    assert all(math.isfinite(value) for value in fixed) and fixed[-1] < fixed[0] / 5


def test_forgot_eval(reports):
    broken, fixed = reports["forgot_eval"].broken.values, reports["forgot_eval"].fixed.values
    assert not torch.equal(broken["first"], broken["second"]) and torch.equal(fixed["first"], fixed["second"])
    assert not torch.equal(broken["stats_before"], broken["stats_after"])
    assert torch.equal(fixed["stats_before"], fixed["stats_after"])


def test_wrong_in_features(reports):
    report = reports["wrong_in_features"]
    assert "mat1 and mat2 shapes cannot be multiplied (2x8192 and 2048x5)" in report.broken.error
    assert report.fixed.values["in_features"] == 8192 and tuple(report.fixed.values["logits"].shape) == (2, 5)


def test_skip_normalization(reports):
    broken, fixed = reports["skip_normalization"].broken.values, reports["skip_normalization"].fixed.values
    # measured (idle, 2 cores): normalised 0.884; trained with / evaluated without 0.696; the reverse 0.816;
    # never normalised 0.752. Asserted: every way of skipping it costs accuracy, a mismatch the most.
    assert fixed["result"] > 0.6
    assert all(broken[key] < fixed["result"] - 0.05 for key in ("result", "reverse", "never"))
    assert broken["result"] < broken["never"]                                   # a mismatch costs more


def test_augment_validation(reports):
    broken, fixed = reports["augment_validation"].broken.values, reports["augment_validation"].fixed.values
    assert len(set(broken["scores"])) > 1 and len(set(fixed["scores"])) == 1    # noise
    # measured: train_tf 0.729-0.771 over six evaluations vs 0.901 deterministic (a bias of about 0.15)
    assert max(broken["scores"]) < fixed["scores"][0] - 0.05                    # and bias
    summary = reports["augment_validation"].symptom
    assert "noise" in summary and "bias" in summary
    assert reports["augment_validation"].figure_png().startswith(b"\x89PNG")  # both drawn: spread and reference


def test_class_to_idx_mismatch(reports):
    report = reports["class_to_idx_mismatch"]
    broken, fixed = report.broken.values, report.fixed.values
    assert report.broken.error is None                                          # silent
    assert broken["val_classes"] != broken["train_classes"]
    # measured 1 / 2 threads: fixed 0.875 / 0.875, broken 0.055 / 0.055 (margins 0.28 and 0.38)
    assert fixed["result"] > 0.6 and broken["result"] < fixed["result"] / 2   # accuracy collapses


def test_kept_1000_outputs(reports):
    report = reports["kept_1000_outputs"]
    broken, fixed = report.broken.values, report.fixed.values
    assert report.broken.error is None and report.fixed.error is None          # silent
    assert broken["outputs"] > broken["num_classes"] == fixed["outputs"]
    # measured: untrained 0.912 of predictions name a class that does not exist; 0 after 5 steps of training
    assert broken["impossible"][0] > 0.3 and all(share == 0 for share in fixed["impossible"])
    assert broken["impossible"][-1] < broken["impossible"][0]                  # training hides the mistake


def test_froze_everything(reports):
    report = reports["froze_everything"]
    assert "element 0 of tensors does not require grad" in report.broken.error
    assert report.fixed.error is None and report.fixed.values["trainable"] == 512 * 5 + 5


def test_optimizer_before_head_replacement(reports):
    broken, fixed = reports["optimizer_before_head_replacement"].broken.values, \
        reports["optimizer_before_head_replacement"].fixed.values
    assert all(abs(loss - math.log(5)) < 1e-6 for loss in broken["losses"]) and not broken["head_changed"]
    assert fixed["losses"][-1] < math.log(5) / 2 and fixed["head_changed"]


def test_eval_instead_of_freeze(reports):
    report = reports["eval_instead_of_freeze"]
    assert report.broken.values["drift"] > 0.01 and report.fixed.values["drift"] == 0


def test_bn_stats_drift(reports):
    broken, fixed = reports["bn_stats_drift"].broken.values, reports["bn_stats_drift"].fixed.values
    # measured 1 / 2 threads: drift 0.0326 / 0.0326 and 0.0296 / 0.0296, cosine 0.9904 (margins 6x and 0.0086)
    assert broken["drift_layer1"] > 0.005 and broken["drift_layer4"] > 0.005 and broken["cosine"] < 0.999
    assert fixed["drift_layer1"] == fixed["drift_layer4"] == 0 and fixed["cosine"] > 0.99999


def test_runs_restore_the_global_rng(monkeypatch):
    from course_utils.catalogue.store import STORE_ENV

    monkeypatch.delenv(STORE_ENV, raising=False)  # run the variants here, not recalled from the test run's store
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    run_symptom("forgot_eval")
    assert torch.equal(torch.rand(2), expected)


def test_unknown_id_lists_valid_choices(capsys):
    with pytest.raises(ValueError, match="Did you mean 'forgot_eval'.*Valid ids: "):
        run_symptom("forgot_evl")
    show_symptom("forgot_evl")  # a learner gets the message, not a traceback
    assert "Did you mean 'forgot_eval'" in capsys.readouterr().out


def test_show_symptom_prints_plain_text_outside_jupyter(capsys):
    show_symptom("flatten_all")
    out = capsys.readouterr().out
    assert "Measured symptom" in out and "mat1 and mat2" in out


def test_quick_entries_show_no_progress_bar_and_the_others_do(capsys, monkeypatch):
    from course_utils.catalogue.store import STORE_ENV

    monkeypatch.delenv(STORE_ENV, raising=False)  # as a learner runs it: measured now, not recalled from the test run
    show_symptom("flatten_all")  # declared quick: its cells' outputs are compared by nbval
    assert "variants" not in capsys.readouterr().err
    show_symptom("float_targets")
    assert "variants" not in capsys.readouterr().err
    show_symptom("softmax_before_ce")
    err = capsys.readouterr().err
    assert "softmax_before_ce: ran: 100%" in err and "| 2/2 variants [" in err


def test_ids_that_are_not_strings_get_the_list_of_valid_ids(capsys):
    for junk in (["forgot_eval"], {"id": 1}, None, 3):
        with pytest.raises(ValueError, match="Valid ids"):
            run_symptom(junk)
        show_symptom(junk)
        assert "Valid ids" in capsys.readouterr().out


def test_pointers_from_checker_and_explanations_name_real_entries_or_later_lessons():  # noqa: D103
    known = set(all_mistakes())
    assert {e.mistake for e in EXPLANATIONS if e.mistake} <= known
    for exercise in all_exercises().values():
        for mistake in exercise.wrong_answers:
            assert re.fullmatch(r"[a-z0-9_]+", mistake)


def test_full_finetune_tiny_data(reports):
    report = reports["full_finetune_tiny_data"]
    broken, fixed = report.broken.values, report.fixed.values
    assert report.broken.error is None and report.fixed.error is None
    # measured at 1 thread (7 epochs; the fix lowers only the backbone's rate): broken train 0.93, broken val 0.42,
    # fixed val 0.96, drift ratio 21.9: margins 0.13, 0.34 (gap 0.54 against 0.2), 0.26 and 4x
    assert broken["train_accuracy"][-1] >= 0.8                       # it still fits the 40 training images
    assert broken["val_accuracy"][-1] < fixed["val_accuracy"][-1] - 0.2
    assert fixed["val_accuracy"][-1] > 0.7
    assert broken["drift"] > 5 * fixed["drift"]


def test_selected_on_test(reports):
    report = reports["selected_on_test"]
    broken, fixed = report.broken.values, report.fixed.values
    assert report.broken.error is None and len(broken["reported"]) == len(broken["fresh"]) == 200
    # measured 1 thread, 2 threads, 2 threads beside a busy process (identical): chosen on the test set, reported
    # 0.928 vs fresh 0.862 (optimism +0.066, reported higher in 180 of 200 splits); chosen on validation, reported
    # 0.861 vs fresh 0.862 (-0.001). Margins: 0.036 of optimism, 40 splits, 0.019 of gap
    assert broken["optimism"] > 0.03                                       # the reported test score is optimistic
    assert sum(r > f for r, f in zip(broken["reported"], broken["fresh"])) > 0.7 * len(broken["reported"])
    assert abs(fixed["optimism"]) < 0.02                                   # chosen on validation: no such gap
    assert broken["optimism"] > fixed["optimism"] + 0.03
    summary = report.symptom
    assert f"{broken['optimism']:+.3f}" in summary and f"{fixed['optimism']:+.3f}" in summary
    assert report.figure_png().startswith(b"\x89PNG")


def test_overlapping_splits(reports):
    report = reports["overlapping_splits"]
    broken, fixed = report.broken.values, report.fixed.values
    assert report.broken.error is None and report.fixed.error is None     # silent; the fix's own check passes
    # measured 1 thread, 2 threads, 2 threads beside a busy process (identical): 68 of 105 validation images in
    # training; split twice, validation 0.952 vs fresh 0.896 (training 1.000); split once, validation 0.895 vs
    # fresh 0.912 (-0.017, within the ±0.055 that 105 images measure). Margins: 0.026, 0.027, 0.038
    assert broken["in_training"] > broken["val_images"] / 2 and fixed["in_training"] == 0
    assert broken["train_accuracy"] > 0.97                                 # the head fits its training images
    assert broken["val_accuracy"] > broken["fresh_accuracy"] + 0.03        # validation above what new images get
    assert broken["val_accuracy"] > fixed["val_accuracy"] + 0.03
    noise = 2 * math.sqrt(fixed["fresh_accuracy"] * (1 - fixed["fresh_accuracy"]) / fixed["val_images"])
    assert abs(fixed["val_accuracy"] - fixed["fresh_accuracy"]) <= noise   # split once: as close as sampling allows
    assert f"{broken['in_training']} of the {broken['val_images']} validation images" in report.symptom
    assert report.figure_png().startswith(b"\x89PNG")


def _stamped(code_suffix: str = "", quick: bool = False):
    from course_utils.catalogue import Mistake

    return Mistake(id="stamped", title="t", setup="import time", broken_code="stamp = time.perf_counter_ns()" +
                   code_suffix, fixed_code="stamp = -time.perf_counter_ns()", record=("stamp",),
                   summarize=lambda broken, fixed: f"{broken.values['stamp']}", explanation="e", quick=quick)


def test_a_test_run_measures_a_slow_entry_once_and_a_learner_always(tmp_path, monkeypatch):
    from course_utils.catalogue.store import STORE_ENV

    monkeypatch.setenv(STORE_ENV, str(tmp_path))
    first, again = _stamped().run(), _stamped().run()
    assert again.broken.values == first.broken.values and again.symptom == first.symptom   # shown, not re-run
    assert _stamped("  # changed").run().broken.values != first.broken.values             # other code: measured
    assert _stamped(quick=True).run().broken.values != _stamped(quick=True).run().broken.values  # quick: always run
    for stored in tmp_path.glob("stamped-*.pickle"):
        stored.write_bytes(b"not a pickle")
    assert _stamped().run().broken.values != first.broken.values                          # unreadable: measured
    monkeypatch.delenv(STORE_ENV)
    assert _stamped().run().broken.values != _stamped().run().broken.values               # a learner: always run


def test_accuracy_hides_missed_defects(reports):
    report = reports["accuracy_hides_missed_defects"]
    broken, fixed = report.broken.values, report.fixed.values
    assert report.broken.error is None and report.fixed.error is None
    assert broken["count"] == 656 and fixed["defective"] == 205                 # the paper-sized test split
    assert broken["accuracy"] == pytest.approx(451 / 656)                         # every functional cell right
    assert fixed["balanced"] == 0.5 and fixed["recall"] == 0.0 and fixed["found"] == 0
    assert f"{broken['accuracy']:.3f}" in report.symptom and "0 of the 205" in report.symptom


def test_shapes_backbone_on_real_images(reports):
    report = reports["shapes_backbone_on_real_images"]
    broken, fixed = report.broken.values, report.fixed.values
    assert report.broken.error is None and report.fixed.error is None
    # measured (1 thread, idle): shapes 0.654, random 0.630, ImageNet 0.777 balanced accuracy on 200 cells
    assert abs(broken["shapes"] - broken["random"]) < 0.071                     # within what 200 cells resolve
    assert fixed["imagenet"] > max(broken["shapes"], broken["random"]) + 0.05   # the source domain matters
    assert "within" in report.symptom and f"{fixed['imagenet']:.3f}" in report.symptom


def test_threshold_chosen_on_test(reports):
    report = reports["threshold_chosen_on_test"]
    broken, fixed = report.broken.values, report.fixed.values
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    assert len(broken["reported"]) == len(fixed["fresh"]) == 200
    assert min(broken["reported"]) >= 0.9                                        # chosen to reach it, so it does
    # measured: chosen on test reported 0.906, fresh 0.899 (+0.007); chosen on validation 0.889 vs 0.894 (-0.005)
    optimism = mean(broken["reported"]) - mean(broken["fresh"])
    assert optimism > 0 and optimism > mean(fixed["reported"]) - mean(fixed["fresh"]) + 0.008
    assert abs(mean(fixed["reported"]) - mean(fixed["fresh"])) < 0.015           # the honest report
    assert f"{optimism:+.3f}" in report.symptom


def test_no_relu(reports):
    report = reports["no_relu"]
    broken, fixed = report.broken.values, report.fixed.values
    assert report.broken.error is None and report.fixed.error is None
    assert broken["negative_share"] > 0.2                                        # measured 0.53 of the 7 x 7 map
    assert broken["against_shown"] > 0.2 and fixed["against_shown"] == 0         # grey instead of dark
    assert float(broken["cam"].min()) == 0 and float(fixed["cam"].max()) == pytest.approx(1)
    assert report.figure_png().startswith(b"\x89PNG")


def test_hooks_left(reports):
    report = reports["hooks_left"]
    assert report.broken.values["calls_per_forward"] == [1, 2, 3, 4, 5]           # one more hook with every call
    assert report.fixed.values["calls_per_forward"] == [1, 1, 1, 1, 1]
    assert "1, 2, 3, 4, 5" in report.symptom


def test_no_distributed_sampler(reports):
    broken, fixed = reports["no_distributed_sampler"].broken.values["seen"], reports["no_distributed_sampler"].fixed.values["seen"]
    assert sorted(broken[0]) == sorted(broken[1]) == list(range(16))              # both ranks: every sample
    assert broken[0] == broken[1]                                                  # and the same batches
    assert len(fixed[0]) == len(fixed[1]) == 8 and sorted(fixed[0] + fixed[1]) == list(range(16))


def test_forgot_set_epoch(reports):
    broken, fixed = reports["forgot_set_epoch"].broken.values["orders"], reports["forgot_set_epoch"].fixed.values["orders"]
    assert all(len({tuple(order) for order in rank}) == 1 for rank in broken)   # every epoch repeats the first
    assert all(len({tuple(order) for order in rank}) == 3 for rank in fixed)


def test_ranks_disagree(reports):
    report = reports["ranks_disagree"]
    broken, fixed = report.broken.values["mine"], report.fixed.values["mine"]
    together = broken[0] + broken[1]
    twice, never = len(together) - len(set(together)), 16 - len(set(together))
    assert twice == never > 0                                                      # counted, and named in the text
    assert f"{twice} were trained on twice in the epoch and {never} never" in report.symptom
    assert sorted(fixed[0] + fixed[1]) == list(range(16))


def test_unreduced_metric(reports):
    report = reports["unreduced_metric"]
    broken, fixed = report.broken.values, report.fixed.values
    assert broken["accuracy"][0] != broken["accuracy"][1]                          # each rank its own number
    assert all(a != broken["whole"][0] for a in broken["accuracy"])               # neither is the whole set's
    assert fixed["accuracy"][0] == fixed["accuracy"][1] == pytest.approx(broken["whole"][0])


def test_saved_on_every_rank(reports):
    report = reports["saved_on_every_rank"]
    assert sum(report.broken.values["wrote"]) == 2 and sum(report.fixed.values["wrote"]) == 1
    assert report.fixed.values["loads"] == [True, True] and report.broken.error is report.fixed.error is None
