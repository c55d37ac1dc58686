"""The CNN zoo as plain modules: output shapes on MNIST and CIFAR shapes, parameter counts, shape errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litzoo.models import VGG, AlexNet, LeNet5, MyCNN, ResNet18, ResNet34, SeparableConv2d, SimpleCNN
from litzoo.models.cnn.vgg import VGG11, VGG16

NUM_CLASSES = 10
BATCH = 2
MNIST = (1, 28, 28)
MNIST_PADDED = (1, 32, 32)
CIFAR = (3, 32, 32)
# Published parameter counts with 10 classes: LeNet-5 (LeCun et al. 1998, one input channel) and
# the CIFAR ResNet-18 (3x3 stem, no max-pool) that pytorch-cifar style repositories report.
LENET5_PARAMETERS = 61_706
RESNET18_CIFAR_PARAMETERS = 11_173_962


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def logits_shape(net: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    with torch.no_grad():
        return tuple(net(torch.randn(BATCH, *input_shape)).shape)


# Each architecture with the data shapes it supports: its own dataset's first, then another one.
ARCHITECTURES = {
    "simple_cnn_a": (lambda shape: SimpleCNN(shape, NUM_CLASSES), [MNIST, CIFAR]),
    "simple_cnn_b": (
        lambda shape: SimpleCNN(shape, NUM_CLASSES, kernel_size=5, hidden_sizes=[128]),
        [MNIST, CIFAR],
    ),
    "simple_cnn_c": (lambda shape: SimpleCNN(shape, NUM_CLASSES, channels=[32]), [CIFAR, MNIST]),
    "simple_cnn_separable": (lambda shape: SimpleCNN(shape, NUM_CLASSES, separable=True), [MNIST, CIFAR]),
    "lenet5": (lambda shape: LeNet5(shape, NUM_CLASSES), [MNIST_PADDED, CIFAR]),
    "my_cnn": (lambda shape: MyCNN(shape, NUM_CLASSES), [CIFAR, MNIST]),
    "vgg11_bn": (lambda shape: VGG(shape, NUM_CLASSES, batch_norm=True), [CIFAR, MNIST_PADDED]),
    "alexnet": (lambda shape: AlexNet(shape, NUM_CLASSES, hidden_size=64), [CIFAR, MNIST]),
    "resnet18": (lambda shape: ResNet18(shape, NUM_CLASSES), [CIFAR, MNIST]),
}


@pytest.mark.parametrize(
    ("build", "input_shape"),
    [
        pytest.param(build, shape, id=f"{name}-{'x'.join(map(str, shape))}")
        for name, (build, shapes) in ARCHITECTURES.items()
        for shape in shapes
    ],
)
def test_output_is_one_logit_per_class(build, input_shape):
    net = build(input_shape)
    assert logits_shape(net, input_shape) == (BATCH, NUM_CLASSES)


def test_simple_cnn_first_linear_width_follows_the_input_shape():
    # Two 2x2 pools: 28 -> 7 (32 channels * 7 * 7) and 32 -> 8 (32 * 8 * 8).
    assert SimpleCNN(MNIST, NUM_CLASSES).classifier[1].in_features == 32 * 7 * 7
    assert SimpleCNN(CIFAR, NUM_CLASSES).classifier[1].in_features == 32 * 8 * 8
    assert SimpleCNN(CIFAR, NUM_CLASSES).features[0].in_channels == 3


def test_simple_cnn_tutorial_variants_have_their_layers():
    fc = SimpleCNN(MNIST, NUM_CLASSES, kernel_size=5, hidden_sizes=[128])
    convs = [m for m in fc.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.padding) for c in convs] == [
        (16, (5, 5), (2, 2)),
        (32, (5, 5), (2, 2)),
    ]
    linears = [m for m in fc.modules() if isinstance(m, nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == [(32 * 7 * 7, 128), (128, NUM_CLASSES)]
    cifar = SimpleCNN(CIFAR, NUM_CLASSES, channels=[32])
    assert [type(m) for m in cifar.features] == [nn.Conv2d, nn.ReLU, nn.MaxPool2d]
    assert [m.in_features for m in cifar.modules() if isinstance(m, nn.Linear)] == [32 * 16 * 16]


def test_separable_conv_is_depthwise_then_pointwise_with_fewer_parameters():
    in_channels, out_channels, kernel = 16, 32, 3
    separable = SeparableConv2d(in_channels, out_channels, kernel, padding=1)
    assert separable.depthwise.groups == in_channels
    assert separable.depthwise.out_channels == in_channels
    assert separable.depthwise.kernel_size == (kernel, kernel)
    assert separable.pointwise.kernel_size == (1, 1)
    plain = nn.Conv2d(in_channels, out_channels, kernel, padding=1)
    assert parameter_count(separable) < parameter_count(plain)
    x = torch.randn(BATCH, in_channels, 8, 8)
    assert separable(x).shape == plain(x).shape


def test_separable_simple_cnn_uses_separable_convs_and_is_smaller():
    separable = SimpleCNN(CIFAR, NUM_CLASSES, separable=True)
    assert [type(m) for m in separable.features if not isinstance(m, nn.ReLU | nn.MaxPool2d)] == [
        SeparableConv2d,
        SeparableConv2d,
    ]
    plain = SimpleCNN(CIFAR, NUM_CLASSES)
    convs = lambda net: sum(parameter_count(m) for m in net.features)  # noqa: E731
    assert convs(separable) < convs(plain)


def test_lenet5_has_the_published_parameter_count():
    net = LeNet5(MNIST_PADDED, NUM_CLASSES)
    assert parameter_count(net) == LENET5_PARAMETERS
    assert [type(m) for m in net.features] == [nn.Conv2d, nn.Tanh, nn.AvgPool2d] * 2


def test_lenet5_on_unpadded_mnist_is_a_clear_error():
    with pytest.raises(ValueError, match=r"LeNet5 needs 1x32x32 input; the datamodule gives 1x28x28") as info:
        LeNet5(MNIST, NUM_CLASSES)
    assert "data.init_args.pad_to: 32" in str(info.value)


def test_non_image_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"SimpleCNN reads images .* gives samples of shape \(1,\)"):
        SimpleCNN((1,), NUM_CLASSES)


def test_vgg_too_small_input_names_the_shape_and_the_fix():
    # Five 2x2 pools need at least 32 pixels per side; 28x28 MNIST runs out after four.
    with pytest.raises(ValueError, match=r"VGG: input of shape 1x28x28 is too small") as info:
        VGG(MNIST, NUM_CLASSES)
    assert "pad_to: 32" in str(info.value)


def test_resnet18_cifar_has_the_published_parameter_count():
    assert parameter_count(ResNet18(CIFAR, NUM_CLASSES)) == RESNET18_CIFAR_PARAMETERS


def test_resnet_has_the_cifar_stem_and_projection_shortcuts():
    net = ResNet18(MNIST, NUM_CLASSES)
    assert net.conv1.in_channels == 1 and net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1)
    assert isinstance(net.maxpool, nn.Identity)
    assert [len(stage) for stage in (net.layer1, net.layer2, net.layer3, net.layer4)] == [2, 2, 2, 2]
    # A projection (1x1 conv + BN) exactly where the stride or width changes: first block of stages 2-4.
    shortcuts = [
        block.downsample is not None for stage in (net.layer2, net.layer3, net.layer4) for block in stage
    ]
    assert shortcuts == [True, False] * 3
    assert net.layer1[0].downsample is None
    resnet34 = ResNet34(CIFAR, NUM_CLASSES)
    stages = (resnet34.layer1, resnet34.layer2, resnet34.layer3, resnet34.layer4)
    assert [len(stage) for stage in stages] == [3, 4, 6, 3]


def test_my_cnn_layers_follow_the_tutorial():
    net = MyCNN(CIFAR, NUM_CLASSES)
    assert [m.out_channels for m in net.features if isinstance(m, nn.Conv2d)] == [64, 128, 256]
    linears = [(m.in_features, m.out_features) for m in net.classifier if isinstance(m, nn.Linear)]
    assert linears == [(256 * 4 * 4, 512), (512, 128), (128, NUM_CLASSES)]


@pytest.mark.parametrize(("cfg", "convs"), [("vgg11", 8), ("vgg16", 13)])
def test_vgg_named_configs(cfg, convs):
    net = VGG(CIFAR, NUM_CLASSES, cfg=cfg, batch_norm=True)
    assert sum(isinstance(m, nn.Conv2d) for m in net.features) == convs
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.features) == convs
    assert net.classifier[1].in_features == 512  # five pools: 32 -> 1
    assert len(VGG11) - VGG11.count("M") == 8 and len(VGG16) - VGG16.count("M") == 13


def test_dummy_forward_leaves_the_net_in_training_mode():
    assert all(m.training for m in VGG(CIFAR, NUM_CLASSES, batch_norm=True).modules())
