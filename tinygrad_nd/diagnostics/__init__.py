"""See, measure and explain vanishing and exploding gradients, with hooks on any model."""

from .layers import activation_layers, weighted_layers
from .monitors import ActivationMonitor, GradientMonitor

__all__ = ["ActivationMonitor", "GradientMonitor", "activation_layers", "weighted_layers"]
