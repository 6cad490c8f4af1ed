"""The model zoo and model resolution (re-exports; the logic is in _factory.py and _user.py).

`create_model(name)` builds a registered zoo CNN; `resolve_model(spec)` also understands
`torchvision:NAME`, `timm:NAME`, `package.module:callable` and `path/to/file.py:callable`, and
knows each model's input size. Shared blocks live in models/layers.py.
"""
from intensity.models._factory import (
    ResolvedModel, create_model, list_models, model_entries, model_entry, resolve_model,
)
from intensity.models._registry import DEFAULT_INPUT, MODELS, ModelEntry, register_model
from intensity.models._user import user_source_file

__all__ = ["DEFAULT_INPUT", "MODELS", "ModelEntry", "ResolvedModel", "create_model", "list_models",
           "model_entries", "model_entry", "register_model", "resolve_model", "user_source_file"]
