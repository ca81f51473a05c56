"""See, measure and explain vanishing and exploding gradients, with hooks on any model."""

from .diagnose import Diagnosis, LayerReport, diagnose, layer_gains
from .health import GradientHealthWarning, grad_health
from .layers import activation_layers, weighted_layers
from .monitors import ActivationMonitor, GradientMonitor
from .recorder import GradientRecorder

__all__ = ["ActivationMonitor", "Diagnosis", "GradientHealthWarning", "GradientMonitor",
           "GradientRecorder", "LayerReport", "activation_layers", "diagnose", "grad_health",
           "layer_gains", "weighted_layers"]
