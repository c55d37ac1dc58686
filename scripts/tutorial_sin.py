"""The tutorial's sin(1/x) regression as the tutorial writes it: the reference litzoo is timed against.

    python scripts/tutorial_sin.py                  # 2000 epochs, as in the tutorial
    python scripts/tutorial_sin.py --epochs 3       # shorter, for tests

Copied line for line from the tutorial ("building models", ``../shared/seeds/004_*``: ``DenseLayer``,
``Feedforward``, ``MyDataset``, ``train()`` and the "Toy Regression" script): numpy data seeded 137,
``DataLoader(batch_size=64, shuffle=True)`` over a per-sample ``Dataset``, Adam (lr 0.01, weight decay
1e-5), ``loss.item()`` every step, validation as one forward pass over the whole validation set each
epoch, a progress line every 10 epochs. Left out, since none of it trains: the matplotlib figures, the
``torch.save``/``torch.load`` round trip and the final prediction plot. Added: ``--epochs`` (the
tutorial's ``num_train_epochs``), ``--torch-seed`` (the tutorial's ``torch.manual_seed(137)``, which
decides the initial weights and the shuffling; the samples keep numpy's seed 137, as litzoo's keep
theirs whatever ``--seed_everything`` says), and a last line with the best validation MSE in full
precision, as JSON, which ``scripts/benchmark.py``, ``scripts/sin_seeds.py`` and the tests read. ``accuracy_score`` (scikit-learn) is reached
only by the classification branch of ``train()``, which this script never runs.
"""

import argparse
import json

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset


class DenseLayer(nn.Module):
    """
    Custom fully connected layer (Dense Layer).
    Mathematical form:
    z = XW + b
    y = activation(z)
    Parameters:
    - W: shape (input_dim, output_dim)
    - b: shape (output_dim,)
    - activation: specifies the activation function type
    """

    def __init__(self, input_dim, output_dim, activation):
        super(DenseLayer, self).__init__()
        # Weight W: initialized with Xavier uniform, which generally leads to more stable training
        self.W = nn.Parameter(torch.empty(input_dim, output_dim))
        nn.init.xavier_uniform_(self.W)
        # Bias b: initialized to zero
        self.b = nn.Parameter(torch.zeros(output_dim))
        # Record the activation function type used by this layer
        self.activation = activation

    def forward(self, inputs):
        """
        Forward pass:
        1) Linear transformation: inputs @ W + b
        2) Activation function: select the appropriate nonlinearity based on activation
        """
        z = inputs @ self.W + self.b
        if self.activation == 'relu':
            outputs = torch.relu(z)
        elif self.activation == 'sigmoid':
            outputs = torch.sigmoid(z)
        elif self.activation == 'tanh':
            outputs = torch.tanh(z)
        elif self.activation == 'softmax':
            # Softmax normalizes along the class dimension (dim=1)
            outputs = torch.softmax(z, dim=1)
        else:
            # linear: no activation, output the raw linear result
            outputs = z
        return outputs


class Feedforward(nn.Module):
    """
    Feedforward Neural Network (MLP).
    Composed of several DenseLayers stacked sequentially.
    Construction:
    - depth specifies the total number of "connection layers"
    - hidden_sizes specifies the width of each hidden layer (length should be depth-1)
    - output_size determines the output layer dimension (number of classes for classification, typically 1 for regression)
    """

    def __init__(self, input_size, depth, hidden_sizes, output_size):
        super(Feedforward, self).__init__()
        # Structural validity check: number of hidden layers must be exactly depth - 1
        if not (depth - len(hidden_sizes)) == 1:
            raise Exception(
                "The depth (%d) of the network should be 1 larger than `hidden_sizes` (%d)." %
                (depth, len(hidden_sizes))
            )
        # sizes describes the input/output dimension sequence for each layer
        # e.g., input=10, hidden=[32,16], output=3 => sizes=[10,32,16,3]
        sizes = [input_size] + hidden_sizes + [output_size]
        layers = []
        # Build the first depth-1 layers: hidden layers with ReLU activation
        for i in range(depth - 1):
            layers.append(DenseLayer(sizes[i], sizes[i + 1], 'relu'))
        # Build the last layer: choose activation based on the task (output_size)
        # - output_size == 1: regression task, output a continuous value, use linear
        # - output_size > 1: classification task, use softmax to output class probabilities
        if output_size == 1:
            layers.append(DenseLayer(sizes[-2], sizes[-1], 'linear'))
        else:
            layers.append(DenseLayer(sizes[-2], sizes[-1], 'softmax'))
        # Use ModuleList to store layers, ensuring parameters are properly registered by PyTorch
        self.layers = nn.ModuleList(layers)

    def forward(self, inputs):
        """
        Forward pass: feed the input through each layer sequentially
        """
        outputs = inputs
        for layer in self.layers:
            outputs = layer(outputs)
        return outputs


class MyDataset(Dataset):
    """
    Wraps (x, y) data into a PyTorch Dataset for convenient batch loading via DataLoader.
    - x: converted to float32 Tensor
    - y: converted to long for classification (class indices) or float32 for regression (continuous values)
    """

    def __init__(self, x, y, pr_type):
        self.x = torch.tensor(x, dtype=torch.float32)
        self.y = torch.tensor(y, dtype=(torch.long if pr_type == "classification"
                                        else torch.float32))

    def __len__(self):
        # Return the number of samples in the dataset
        return self.x.size()[0]

    def __getitem__(self, idx):
        # Return a single sample (features, label)
        return self.x[idx], self.y[idx]


def train(x_train, y_train, x_val, y_val, loss_type, model, num_train_epochs, batch_size, lr, weight_decay):
    """
    Training function: optimizes the model using mini-batch training, and evaluates on the
    validation set after each epoch while recording the training history.
    """
    # 1) Determine the task type (affects label dtype and evaluation method)
    if loss_type == 'CrossEntropy':
        pr_type = 'classification'
    else:
        pr_type = 'regression'
    # 2) Create training/validation Datasets
    train_dataset = MyDataset(x_train, y_train, pr_type)
    val_dataset = MyDataset(x_val, y_val, pr_type)
    # 3) Create training DataLoader (shuffle=True improves generalization)
    train_loader = DataLoader(train_dataset, batch_size=batch_size, shuffle=True)
    # 4) Create optimizer (Adam) with weight_decay regularization
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    # 5) Select the loss function
    if loss_type == 'CrossEntropy':
        criterion = nn.CrossEntropyLoss()
    else:
        criterion = nn.MSELoss()
    # 6) history: record the training process
    history = {"loss": [], "val_loss": [], "accuracy": []}
    # 7) Training loop
    for epoch in range(num_train_epochs):
        # ---- Training phase ----
        model.train()
        total_loss = 0
        count = 0
        for x_batch, y_batch in train_loader:
            # Forward pass
            pred = model(x_batch)
            # Compute loss
            loss = criterion(pred, y_batch)
            # Backpropagation and parameter update
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            # Accumulate total loss for this epoch (weighted by sample count) to compute the average
            total_loss += loss.item() * x_batch.size(0)
            count += x_batch.size(0)
        avg_train_loss = total_loss / count
        # ---- Validation phase ----
        model.eval()
        with torch.no_grad():
            # Forward pass on the validation set
            val_pred = model(val_dataset.x)
            # Compute validation loss
            val_loss = criterion(val_pred, val_dataset.y).item()
            # Compute metrics:
            if loss_type == 'CrossEntropy':
                acc = accuracy_score(y_val, val_pred.argmax(dim=1).numpy())
            else:
                acc = val_loss
        # Record history
        history["loss"].append(avg_train_loss)
        history["val_loss"].append(val_loss)
        history["accuracy"].append(acc)
        # Print training progress: output at the 1st epoch and every 10th epoch
        if (epoch + 1) % 10 == 0 or epoch == 0:
            if loss_type == 'CrossEntropy':
                print(f"Epoch [{epoch+1}/{num_train_epochs}], "
                      f"Train Loss: {avg_train_loss:.4f}, "
                      f"Val Loss: {val_loss:.4f}, "
                      f"Val Accuracy: {acc:.4f}")
            else:
                print(f"Epoch [{epoch+1}/{num_train_epochs}], "
                      f"Train Loss: {avg_train_loss:.4f}, "
                      f"Val Loss: {val_loss:.4f}, "
                      f"Val MSE: {acc:.4f}")
    # Return the trained model and training history
    return model, history


# =========================
# Toy Regression: y = sin(1/x)
# =========================
parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=2000, help="the tutorial's num_train_epochs")
parser.add_argument("--torch-seed", type=int, default=137, help="the tutorial's torch.manual_seed")
args = parser.parse_args()
if args.epochs < 1:
    parser.error("--epochs must be at least 1.")

# Fix random seeds for reproducibility
torch.manual_seed(args.torch_seed)
np.random.seed(137)


def target_func(x):
    """Target function: y = sin(1/x), oscillates more rapidly as x approaches 0"""
    return np.sin(1 / x)


# Training and validation sets: 2000 points each
x_train = np.power(np.random.random_sample([2000, 1]), 4) + 0.05
y_train = target_func(x_train)
x_val = np.power(np.random.random_sample([2000, 1]), 4) + 0.05
y_val = target_func(x_val)

input_size = x_train.shape[-1]
output_size = 1
depth = 4
hidden_sizes = [64, 64, 64]
num_train_epochs = args.epochs
batch_size = 64
learning_rate = 0.01
weight_decay = 1e-5
model = Feedforward(input_size, depth, hidden_sizes, output_size)

model, history = train(
    x_train, y_train,
    x_val, y_val,
    loss_type="SquaredError",
    model=model,
    num_train_epochs=num_train_epochs,
    batch_size=batch_size,
    lr=learning_rate,
    weight_decay=weight_decay
)
# Print final and best validation MSE
print("final MSE: ", f"{history['val_loss'][-1]:.6f}")
print("best MSE: ", f"{min(history['val_loss']):.6f}")
print(json.dumps({"best_val_mse": min(history["val_loss"]), "epochs": num_train_epochs}))
