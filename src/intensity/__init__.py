"""intensity: measure, predict and raise the arithmetic intensity of CNN inference."""
from intensity.api import InputSpec, analyze, op_cost, parse_input_shape, parse_inputs, register_op_cost, unregister_op_cost
from intensity.cost import CostReport
from intensity.hardware import HardwareSpec, get_spec, list_specs
from intensity.models import create_model, list_models
from intensity.registry import Registry

__version__ = "0.1.0"
__all__ = ["CostReport", "HardwareSpec", "InputSpec", "Registry", "analyze", "create_model", "get_spec",
           "list_models", "list_specs", "op_cost", "parse_input_shape", "parse_inputs", "register_op_cost",
           "unregister_op_cost"]
