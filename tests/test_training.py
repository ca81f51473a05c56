"""Real training on the embedded digits: the MLP of the book and a small CNN."""

import numpy as np

import tinygrad_nd as tg
from tinygrad_nd import data, nn, optim


def test_issue_snippet_mlp_reaches_90_percent_on_embedded_digits(tmp_path):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10))
    opt = optim.SGD(model.parameters(), lr=0.5, weight_decay=5e-5)
    train, test = data.mnist_5k(split=(4000, 1000))
    for epoch in range(6):
        for xb, yb in data.DataLoader(train, batch_size=10, shuffle=True, seed=epoch):
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    _, accuracy = tg.evaluate(model, nn.functional.cross_entropy, test)
    assert accuracy >= 0.90, accuracy
    model.save(tmp_path / "net.safetensors")
    model.load(tmp_path / "net.safetensors")
    assert tg.evaluate(model, nn.functional.cross_entropy, test)[1] == accuracy


def test_small_cnn_trains_with_fit():
    tg.manual_seed(0)
    train, test = data.mnist_5k(split=(1000, 500), flatten=False)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
    history = tg.fit(model, nn.functional.cross_entropy, optim.Adam(model.parameters(), 2e-3),
                     data.DataLoader(train, batch_size=32, shuffle=True, seed=0), epochs=3,
                     val=test, progress=False)
    assert history.loss[-1] < history.loss[0]
    assert history.val_accuracy[-1] > 0.8, history.as_dict()
    assert np.isfinite(history.val_loss).all()
