"""Neural-network building blocks with PyTorch's names: modules, layers, losses, init."""

from . import functional, init, utils
from .activation import (
                         CELU,
                         ELU,
                         GELU,
                         GLU,
                         SELU,
                         Activation,
                         Hardsigmoid,
                         Hardswish,
                         Hardtanh,
                         Identity,
                         LeakyReLU,
                         LogSigmoid,
                         LogSoftmax,
                         Mish,
                         ReLU,
                         ReLU6,
                         Sigmoid,
                         SiLU,
                         Softmax,
                         Softmin,
                         Softplus,
                         Softsign,
                         Tanh,
                         Threshold,
)
from .attention import MultiheadAttention
from .builders import mlp
from .containers import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Residual,
    Sequential,
)
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .layers import Dropout, Embedding, Flatten, Linear, Unflatten
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
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "Activation", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d",
    "Conv2d", "CrossEntropyLoss", "Dropout", "ELU", "Flatten", "GELU", "Identity", "LeakyReLU",
    "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList", "NLLLoss",
    "Parameter", "ReLU", "Residual", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh",
    "functional", "init", "mlp", "utils",
    # convolution and pooling layers (p14-conv)
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool3d", "Conv1d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d", "MaxPool3d", "Upsample",
    # layers and losses of the PyTorch-parity work (issue #14)
    "BatchNorm3d", "CosineSimilarity", "Embedding", "GRU", "GRUCell", "GroupNorm", "HuberLoss",
    "InstanceNorm1d", "InstanceNorm2d", "KLDivLoss", "L1Loss", "LSTM", "LSTMCell", "LayerNorm",
    "MarginRankingLoss", "ModuleDict", "MultiheadAttention", "ParameterDict", "ParameterList",
    "RNN", "RNNCell", "SmoothL1Loss", "Unflatten",
    # part "math" of issue #14
    "CELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish", "ReLU6", "SELU",
    "SiLU", "Softmin", "Softsign", "Threshold",
]
