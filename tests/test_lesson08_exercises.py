"""Lesson 08 checks beyond the contract: copies of the model, returned types, dtypes of the labels."""
import copy

import pytest
import torch

from course_utils import check_exercise
from helpers import assert_passes


def test_predict_on_a_copy_of_the_model_passes():
    def on_a_copy(model, image, transform, class_names):
        network = copy.deepcopy(model).eval()
        with torch.no_grad():
            probabilities = torch.nn.functional.softmax(network(transform(image)[None]), dim=1)
        value, index = torch.max(probabilities, dim=1)
        return class_names[index.item()], value.item()
    assert_passes("predict", on_a_copy)


def test_predict_must_return_a_name_and_a_python_number():
    def index_instead(model, image, transform, class_names):
        model.eval()
        with torch.no_grad():
            p = model(transform(image).unsqueeze(0)).softmax(1)[0]
        return int(p.argmax()), p.max().item()

    def tensor_probability(model, image, transform, class_names):
        model.eval()
        with torch.no_grad():
            p = model(transform(image).unsqueeze(0)).softmax(1)[0]
        return class_names[int(p.argmax())], p.max()
    assert "class_names[index]" in check_exercise("predict", index_instead).message
    assert ".item()" in check_exercise("predict", tensor_probability).message


@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8")
def test_confusion_matrix_dtype_and_uint8_labels():
    def float_counts(preds, targets, num_classes):
        matrix = torch.zeros(num_classes, num_classes)
        for t, p in zip(targets.tolist(), preds.tolist()):
            matrix[t, p] += 1
        return matrix

    def indexes_with_the_tensors(preds, targets, num_classes):     # uint8 tensors index as masks
        matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
        matrix.index_put_((targets, preds), torch.ones_like(targets, dtype=torch.long), accumulate=True)
        return matrix
    assert "dtype" in check_exercise("confusion_matrix", float_counts).message
    result = check_exercise("confusion_matrix", indexes_with_the_tensors)
    assert result.status == "failed" and "uint8" in result.message


def test_predict_on_a_copy_is_still_seen_in_train_mode_or_with_gradients():
    def copy_without_eval(model, image, transform, class_names):
        network = copy.deepcopy(model)
        with torch.no_grad():
            p = network(transform(image).unsqueeze(0)).softmax(1)[0]
        return class_names[int(p.argmax())], p.max().item()

    def copy_with_gradients(model, image, transform, class_names):
        network = copy.deepcopy(model).eval()
        p = network(transform(image).unsqueeze(0)).softmax(1)[0]
        return class_names[int(p.argmax())], p.max().item()
    assert check_exercise("predict", copy_without_eval).mistake == "forgot_eval"
    assert check_exercise("predict", copy_with_gradients).mistake == "tracks_gradients"


def test_predict_eval_on_the_layers_that_matter_passes():
    def selective_eval(model, image, transform, class_names):
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm2d, torch.nn.Dropout)):
                module.eval()
        with torch.no_grad():
            p = model(transform(image).unsqueeze(0)).softmax(1)[0]
        return class_names[int(p.argmax())], p.max().item()
    assert_passes("predict", selective_eval)


def test_predict_must_not_change_its_inputs_and_names_a_swapped_pair():
    def solution(model, image, transform, class_names):
        model.eval()
        with torch.no_grad():
            p = model(transform(image).unsqueeze(0)).softmax(1)[0]
        return class_names[int(p.argmax())], p.max().item()

    def zeroes_the_model(model, image, transform, class_names):
        answer = solution(model, image, transform, class_names)
        for parameter in model.parameters():
            parameter.data.zero_()
        return answer

    def pops_the_name(model, image, transform, class_names):
        name, p = solution(model, image, transform, class_names)
        class_names.remove(name)
        return name, p

    def swapped(model, image, transform, class_names):
        name, p = solution(model, image, transform, class_names)
        return p, name
    assert "changed its inputs" in check_exercise("predict", zeroes_the_model).message
    assert "changed its inputs" in check_exercise("predict", pops_the_name).message
    assert "other order" in check_exercise("predict", swapped).message


def test_confusion_matrix_overflow_and_transposed_floats():
    def uint8_arithmetic(preds, targets, num_classes):   # targets * K + preds wraps around in uint8 for K >= 16
        flat = targets * num_classes + preds
        return torch.bincount(flat.long(), minlength=num_classes ** 2).view(num_classes, num_classes)

    def transposed_float(preds, targets, num_classes):
        matrix = torch.zeros(num_classes, num_classes)
        for t, p in zip(targets.tolist(), preds.tolist()):
            matrix[p, t] += 1
        return matrix
    result = check_exercise("confusion_matrix", uint8_arithmetic)
    assert result.status == "failed" and "20 classes" in result.message
    assert check_exercise("confusion_matrix", transposed_float).mistake == "transposed"
