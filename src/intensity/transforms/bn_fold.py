"""Train-time normalization that disappears at deployment.

`with_batch_norm(model)` inserts a batch norm after every conv and every hidden linear layer (not
the output layer, and not where a norm already follows), so a specialized CNN without norms can be
trained at a higher learning rate. `deployable(model)` undoes it for inference: each batch norm's
running statistics and affine parameters are folded into the conv or linear before it
(w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta) and dropout is
removed, so the deployed network has exactly the architecture, weights count and flops of the model
without the norms, and computes what the trained model computes in eval mode.
"""
from __future__ import annotations

from torch import fx, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from intensity.transforms.widths import trace

_FOLDABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def _module(graph_module: fx.GraphModule, node: fx.Node) -> nn.Module | None:
    return graph_module.get_submodule(node.target) if node.op == "call_module" else None


def _is_output_layer(node: fx.Node) -> bool:
    """A layer whose value reaches the graph output through no other layer: the logits."""
    return any(user.op == "output" for user in node.users)


def _norm_follows(graph_module: fx.GraphModule, node: fx.Node) -> bool:
    return any(isinstance(_module(graph_module, user), (_BatchNorm, nn.GroupNorm, nn.LayerNorm))
               for user in node.users)


def _new_norm(layer: nn.Module) -> nn.Module:
    if isinstance(layer, nn.Linear):
        return nn.BatchNorm1d(layer.out_features)
    return {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[layer.weight.dim() - 2](layer.out_channels)


def with_batch_norm(model: nn.Module) -> fx.GraphModule:
    """`model` (traced) with a BatchNorm after each conv/hidden linear that has none; the output
    layer keeps raw logits. Names: '<layer>_bn'."""
    traced = trace(model)
    for node in list(traced.graph.nodes):
        layer = _module(traced, node)
        if not isinstance(layer, _FOLDABLE) or _is_output_layer(node) or _norm_follows(traced, node):
            continue
        name = f"{node.target.replace('.', '_')}_bn"
        traced.add_submodule(name, _new_norm(layer))
        with traced.graph.inserting_after(node):
            norm = traced.graph.call_module(name, (node,))
        node.replace_all_uses_with(norm, delete_user_cb=lambda user: user is not norm)
    traced.graph.lint()
    traced.recompile()
    return traced.train(model.training)


def _fuse(layer: nn.Module, norm: _BatchNorm) -> nn.Module:
    if isinstance(layer, nn.Linear):
        return fuse_linear_bn_eval(layer, norm)
    return fuse_conv_bn_eval(layer, norm)


def fold_batch_norms(model: nn.Module) -> fx.GraphModule:
    """A traced eval-mode copy of `model` with every batch norm that directly follows a conv or
    linear (its only user) folded into that layer's weight and bias. A batch norm after anything
    else (an add, a pool) stays: there is no layer to fold it into."""
    traced = trace(model)
    for node in list(traced.graph.nodes):
        norm = _module(traced, node)
        source = node.args[0] if node.args else None
        if not isinstance(norm, _BatchNorm) or not isinstance(source, fx.Node) or len(source.users) != 1:
            continue
        layer = _module(traced, source)
        if not isinstance(layer, _FOLDABLE) or norm.running_mean is None:
            continue
        _replace(traced, source.target, _fuse(layer, norm))
        node.replace_all_uses_with(source)
        traced.graph.erase_node(node)
    return _cleaned(traced)


def remove_dropout(model: fx.GraphModule) -> fx.GraphModule:
    """Dropout is the identity in inference: its nodes are bypassed."""
    for node in list(model.graph.nodes):
        if isinstance(_module(model, node), nn.modules.dropout._DropoutNd):
            node.replace_all_uses_with(node.args[0])
            model.graph.erase_node(node)
    return _cleaned(model)


def deployable(model: nn.Module) -> fx.GraphModule:
    """What ships: `model` in eval mode with batch norms folded and dropout removed."""
    return remove_dropout(fold_batch_norms(model))


def _replace(graph_module: fx.GraphModule, target: str, module: nn.Module) -> None:
    parent, _, name = target.rpartition(".")
    setattr(graph_module.get_submodule(parent) if parent else graph_module, name, module)


def _cleaned(graph_module: fx.GraphModule) -> fx.GraphModule:
    graph_module.graph.lint()
    graph_module.delete_all_unused_submodules()
    graph_module.recompile()
    return graph_module.eval()


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, _BatchNorm) for m in model.modules())
