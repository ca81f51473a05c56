"""A model file for `tinygrad-nd graph examples/graph_model.py --out graph.svg`.

The drawer needs `model` and `example_input`; `loss_fn` and `target` are optional (without
them the model's output is the root and gradients are those of its sum).
"""

import tinygrad_nd as tg
from tinygrad_nd import data, nn

tg.manual_seed(0)
model = nn.Sequential(
    nn.Linear(784, 64, init="kaiming_normal"), nn.ReLU(),
    nn.Residual(nn.Sequential(nn.Linear(64, 64, init="kaiming_normal"), nn.ReLU())),
    nn.Linear(64, 10),
)
train, _ = data.mnist_5k(split=(32, 0))
example_input, target = train.arrays
loss_fn = nn.functional.cross_entropy

if __name__ == "__main__":
    from tinygrad_nd import viz

    print(viz.draw_model(model, example_input, loss_fn, target).source[:400])
