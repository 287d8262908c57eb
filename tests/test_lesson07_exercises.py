"""Lesson 07 checks beyond the contract: other correct styles, half-done answers, groups of any shape."""
import numpy as np
import torch
from torch import nn

from course_utils import check_exercise
from helpers import assert_mistake, assert_passes


def test_unfreeze_last_block_needs_every_parameter_of_the_block():
    def convolutions_only(model):
        model.requires_grad_(False)
        for module in model.layer4.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.requires_grad = True
        model.fc.requires_grad_(True)
        return model

    def by_child_index(model):                      # conv1, bn1, relu, maxpool, layer1..4, avgpool, fc
        for index, child in enumerate(model.children()):
            child.requires_grad_(index in (7, 9))
        return model

    result = check_exercise("unfreeze_last_block", convolutions_only)
    assert result.status == "failed" and "still frozen" in result.message
    assert_passes("unfreeze_last_block", by_child_index)


def test_unfreeze_last_block_from_a_trainable_model_names_the_missing_freeze():
    def only_opens(model):
        for part in (model.layer4, model.fc):
            for parameter in part.parameters():
                parameter.requires_grad = True
        return model
    assert_mistake("unfreeze_last_block", only_opens, "unfroze_everything")


def test_param_groups_in_any_order_and_shape_pass():
    def one_group_per_tensor(model, head_lr, backbone_lr):
        return [{"params": p, "lr": head_lr if name.startswith("fc.") else backbone_lr}
                for name, p in reversed(list(model.named_parameters())) if p.requires_grad]

    def filtered(model, head_lr, backbone_lr):
        head_ids = {id(p) for p in model.fc.parameters()}
        trainable = list(filter(lambda p: p.requires_grad, model.parameters()))
        return [{"params": [p for p in trainable if id(p) not in head_ids], "lr": backbone_lr, "betas": (0.9, 0.99)},
                {"params": [p for p in trainable if id(p) in head_ids], "lr": head_lr}]
    assert_passes("finetune_param_groups", one_group_per_tensor)
    assert_passes("finetune_param_groups", filtered)


def test_param_groups_without_their_own_rate_or_of_the_wrong_type_fail_clearly():
    def no_lr(model, head_lr, backbone_lr):
        return [{"params": [p for p in model.fc.parameters() if p.requires_grad]},
                {"params": [p for p in model.layer4.parameters() if p.requires_grad]}]

    def optimizer_instead(model, head_lr, backbone_lr):
        return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=head_lr)

    def hard_coded(model, head_lr, backbone_lr):
        return [{"params": [p for p in model.fc.parameters() if p.requires_grad], "lr": 1e-3},
                {"params": [p for p in model.layer4.parameters() if p.requires_grad], "lr": 1e-4}]
    assert "without a numeric 'lr'" in check_exercise("finetune_param_groups", no_lr).message
    result = check_exercise("finetune_param_groups", optimizer_instead)
    assert result.status == "failed" and "list of dicts" in result.message
    result = check_exercise("finetune_param_groups", hard_coded)
    assert result.status == "failed" and "lr=0.02" in result.message


def test_set_frozen_bn_eval_must_leave_trainable_layers_training():
    def every_batchnorm(model):
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
                module.eval()
        return model

    def calls_train_first(model):
        model.train()
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and not module.weight.requires_grad:
                module.eval()
        return model
    result = check_exercise("set_frozen_bn_eval", every_batchnorm)
    assert result.status == "failed" and "other modules put in eval mode" in result.message
    assert_passes("set_frozen_bn_eval", calls_train_first)


def test_unfreeze_last_block_must_keep_every_layer():
    def new_head(model):
        model.requires_grad_(False)
        model.layer4.requires_grad_(True)
        model.fc = nn.Linear(512, 5)
        return model

    def last_block_of_layer4_only(model):           # layer4 has two blocks: [-1] is only the second
        model.requires_grad_(False)
        model.layer4[-1].requires_grad_(True)
        model.fc.requires_grad_(True)
        return model
    assert "layers changed" in check_exercise("unfreeze_last_block", new_head).message
    assert check_exercise("unfreeze_last_block", last_block_of_layer4_only).status == "failed"


def test_a_parameter_subclass_cannot_lie_about_requires_grad():
    class LyingParameter(nn.Parameter):
        @property
        def requires_grad(self):
            return False

    def lying(model):
        for name, parameter in model.named_parameters():
            parameter.requires_grad = name.startswith(("layer4.", "fc."))
        conv = model.layer1[0].conv1
        conv.weight = LyingParameter(conv.weight.detach(), requires_grad=True)
        return model
    assert check_exercise("unfreeze_last_block", lying).status == "failed"


def test_param_groups_read_as_torch_reads_them():
    class TwoFaced(dict):
        def __getitem__(self, key):
            return list(self.model.parameters()) if key == "params" else super().__getitem__(key)

    def two_faced(model, head_lr, backbone_lr):
        groups = [TwoFaced(params=[p for p in model.fc.parameters() if p.requires_grad], lr=head_lr),
                  TwoFaced(params=[p for p in model.layer4.parameters() if p.requires_grad], lr=backbone_lr)]
        for group in groups:
            group.model = model
        return groups

    def sets(model, head_lr, backbone_lr):
        return [{"params": {p for p in model.fc.parameters() if p.requires_grad}, "lr": head_lr},
                {"params": {p for p in model.layer4.parameters() if p.requires_grad}, "lr": backbone_lr}]

    def float32_rates(model, head_lr, backbone_lr):
        return [{"params": [p for p in model.fc.parameters() if p.requires_grad], "lr": np.float32(head_lr)},
                {"params": [p for p in model.layer4.parameters() if p.requires_grad], "lr": torch.tensor(backbone_lr)}]

    def twice_in_one_group(model, head_lr, backbone_lr):
        head = [p for p in model.fc.parameters() if p.requires_grad]
        return [{"params": head + head, "lr": head_lr},
                {"params": [p for p in model.layer4.parameters() if p.requires_grad], "lr": backbone_lr}]
    assert "plain dict" in check_exercise("finetune_param_groups", two_faced).message
    assert "a set has none" in check_exercise("finetune_param_groups", sets).message
    assert_passes("finetune_param_groups", float32_rates)
    result = check_exercise("finetune_param_groups", twice_in_one_group)
    assert result.mistake == "duplicate_params" and "twice in one group" in result.message


def test_frozen_batchnorm_must_stay_frozen_in_a_forward_pass():
    def hook_switches_back(model):
        for module in model.modules():
            if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and not module.weight.requires_grad:
                module.eval()
                module.register_forward_pre_hook(lambda mod, args: setattr(mod, "training", True))
        return model

    def only_2d(model):
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d) and not module.weight.requires_grad:
                module.eval()
        return model
    result = check_exercise("set_frozen_bn_eval", hook_switches_back)
    assert result.status == "failed" and "running statistics still change" in result.message
    assert "fc.0" in check_exercise("set_frozen_bn_eval", only_2d).message   # the head's frozen BatchNorm1d
