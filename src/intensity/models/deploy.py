"""Deployed graphs: timm models that reparameterize for inference are analysed as deployed.

MobileOne, RepVGG, FastViT, GhostNetV3, RepViT, LeViT, ... train with parallel branches and batch
norms that `timm.utils.reparameterize_model` fuses into single convs for inference. A user
measuring such a model deploys the fused form, so its training graph would overstate the work
(mobileone_s0: 1.05 GMACs and 5.29 M params trained, 0.275 GMACs and 2.08 M deployed).
"""
from __future__ import annotations

import torch

_HOOKS = ("fuse", "reparameterize", "switch_to_deploy")  # the methods timm's reparameterize_model calls


def reparameterizable(module: torch.nn.Module) -> bool:
    """Whether any submodule has one of timm's inference-fusion hooks."""
    return any(hasattr(child, hook) for child in module.modules() for hook in _HOOKS if child is not module)


def deploy_form(module: torch.nn.Module) -> torch.nn.Module:
    """`module` with its branches fused for inference (in place), or unchanged if it has none."""
    if not reparameterizable(module):
        return module
    from timm.utils import reparameterize_model

    return reparameterize_model(module.eval(), inplace=True)
