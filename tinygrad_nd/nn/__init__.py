"""Neural-network building blocks with PyTorch's names: modules, layers, losses, init."""

from . import functional, init, utils
from .activation import (
                         ELU,
                         GELU,
                         Activation,
                         Identity,
                         LeakyReLU,
                         LogSoftmax,
                         ReLU,
                         Sigmoid,
                         Softmax,
                         Softplus,
                         Tanh,
)
from .builders import mlp
from .containers import ModuleList, Residual, Sequential
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .layers import BatchNorm1d, BatchNorm2d, Dropout, Flatten, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter
from .pooling import (
                         AdaptiveAvgPool2d,
                         AvgPool1d,
                         AvgPool2d,
                         AvgPool3d,
                         MaxPool1d,
                         MaxPool2d,
                         MaxPool3d,
                         Upsample,
)

__all__ = [
    "Activation", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d",
    "Conv2d", "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GELU", "Identity", "LeakyReLU",
    "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList", "NLLLoss",
    "Parameter", "ReLU", "Residual", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh",
    "functional", "init", "mlp", "utils",
    # convolution and pooling layers (p14-conv)
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool3d", "Conv1d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d", "MaxPool3d", "Upsample",
]
