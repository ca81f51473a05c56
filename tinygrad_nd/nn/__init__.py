"""Neural-network building blocks with PyTorch's names: modules, layers, losses, init."""

from . import functional, init, utils
from .activation import (
                         ELU,
                         GELU,
                         Identity,
                         LeakyReLU,
                         LogSoftmax,
                         ReLU,
                         Sigmoid,
                         Softmax,
                         Softplus,
                         Tanh,
)
from .attention import MultiheadAttention
from .containers import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Residual,
    Sequential,
)
from .layers import (
    AvgPool2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    Linear,
    MaxPool2d,
    Unflatten,
)
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineSimilarity,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    LayerNorm,
)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GELU", "Identity", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU",
    "Residual", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh", "functional", "init",
    "utils",
    # layers and losses of the PyTorch-parity work (issue #14)
    "BatchNorm3d", "CosineSimilarity", "Embedding", "GRU", "GRUCell", "GroupNorm", "HuberLoss",
    "InstanceNorm1d", "InstanceNorm2d", "KLDivLoss", "L1Loss", "LSTM", "LSTMCell", "LayerNorm",
    "MarginRankingLoss", "ModuleDict", "MultiheadAttention", "ParameterDict", "ParameterList",
    "RNN", "RNNCell", "SmoothL1Loss", "Unflatten",
]
