import pytest
import torch

from litzoo.models import DenseLayer, Feedforward


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softmax", "linear"])
def test_dense_layer_shape_and_activation(activation):
    layer = DenseLayer(5, 3, activation)
    assert layer.weight.shape == (5, 3) and torch.equal(layer.bias, torch.zeros(3))
    x = torch.randn(7, 5)
    y = layer(x)
    assert y.shape == (7, 3)
    pre = x @ layer.weight + layer.bias
    expected = {
        "relu": pre.clamp_min(0),
        "sigmoid": pre.sigmoid(),
        "tanh": pre.tanh(),
        "softmax": pre.softmax(-1),
        "linear": pre,
    }[activation]
    torch.testing.assert_close(y, expected)


def test_dense_layer_uses_xavier_uniform_bounds():
    layer = DenseLayer(100, 50)
    bound = (6 / (100 + 50)) ** 0.5
    assert layer.weight.abs().max() <= bound
    assert layer.weight.std() > bound / 3  # not left at zero


def test_dense_layer_rejects_unknown_activation():
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'.*linear, relu, sigmoid, softmax, tanh"):
        DenseLayer(2, 2, "gelu")


def test_feedforward_shapes_and_logits():
    net = Feedforward(input_shape=(1, 28, 28), num_outputs=10, depth=3, hidden_sizes=[256, 128])
    out = net(torch.randn(4, 1, 28, 28))  # flattens images itself
    assert out.shape == (4, 10)
    # Raw logits, not probabilities: rows do not sum to one and values can be negative.
    assert not torch.allclose(out.sum(-1), torch.ones(4))
    acts = [layer.activation for layer in net.layers]
    assert acts == ["relu", "relu", "linear"]


def test_feedforward_depth_must_match_hidden_sizes():
    with pytest.raises(ValueError, match="depth=4 needs exactly depth - 1 = 3 hidden sizes, got 2"):
        Feedforward(input_shape=(1,), num_outputs=1, depth=4, hidden_sizes=[64, 64])
