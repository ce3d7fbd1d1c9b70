"""A small neural network classifying scikit-learn's bundled handwritten digits: a real-data workload, with
minibatches and a held-out test set whose loss and accuracy are logged beside the training loss."""

from __future__ import annotations

import collections
import importlib.util
from pathlib import Path

import numpy as np

import autodiff as ad
from autodiff import nn
from autodiff.nn import functional as F

from experiments.errors import ConfigError

from . import _validate
from .base import ConstantCache, Footprint, Objective

SAMPLES, FEATURES, CLASSES = 1797, 64, 10  # load_digits(): 8 x 8 images of the digits 0-9
ACTIVATIONS = {"relu": (F.relu, nn.ReLU), "tanh": (ad.tanh, nn.Tanh)}  # name: (function, module)
LAYERS = ("hidden", "output")

MISSING = ("objective=digits needs scikit-learn, which is not installed: the digits data set (1,797 8x8 images of "
           "handwritten digits) is the one scikit-learn ships with its package, so nothing is downloaded. Install "
           "it with `pip install scikit-learn` (or this project's extra: `pip install -e \".[data]\"`) and run the "
           "command again.")


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: the (1797, 64) float64 pixel values 0..16 and the int64 digits of
    ``sklearn.datasets.load_digits``, read from the file scikit-learn ships. Reading it directly spares importing
    ``sklearn.datasets`` (0.9 s and 170 MB, scipy's import included) in every run; should the file move in a future
    release, ``load_digits`` itself is used."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):  # a broken installation is not one either
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(MISSING)
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    if path.is_file():
        table = np.loadtxt(path, delimiter=",")
        return table[:, :-1], table[:, -1].astype(np.int64)
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise ConfigError(MISSING) from None
    images, labels = sklearn_load_digits(return_X_y=True)
    return np.asarray(images, dtype=np.float64), np.asarray(labels, dtype=np.int64)


def split(samples: int, test_fraction: float, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train rows, test rows)``: one permutation drawn from ``data_seed``, its first ``round(test_fraction *
    samples)`` rows held out."""
    order = np.random.default_rng(data_seed).permutation(samples)
    held_out = round(test_fraction * samples)
    return np.sort(order[held_out:]), np.sort(order[:held_out])


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets scaled by the training set's mean and standard deviation per pixel (a pixel that is constant in
    the training set, such as an always blank corner, is only centred)."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0
    return (train - mean) / std, (test - mean) / std


def network(hidden: int, activation: str, init_seed: int) -> nn.Sequential:
    """``Linear(64, hidden)``, the activation, ``Linear(hidden, 10)``, initialised by autodiff's generator seeded
    with ``init_seed`` (torch's numbers: ``torch.manual_seed(init_seed)`` and the same modules give the same
    weights). The generator is left as it was, so the run's own random numbers do not depend on this."""
    saved = ad.get_rng_state()
    ad.manual_seed(init_seed)
    try:
        layers = [("hidden", nn.Linear(FEATURES, hidden)), ("activation", ACTIVATIONS[activation][1]()),
                  ("output", nn.Linear(hidden, CLASSES))]
        return nn.Sequential(collections.OrderedDict(layers))
    finally:
        ad.set_rng_state(saved)


def _activation(value) -> str:
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise ConfigError(f"objective.activation = {value!r} is not allowed. Allowed: {', '.join(ACTIVATIONS)}.")
    return value


def _test_fraction(value) -> float:
    fraction = _validate.real(value, "test_fraction", 0.0, inclusive=False)
    held_out = round(fraction * SAMPLES)
    if not 1 <= held_out <= SAMPLES - 1:
        raise ConfigError(f"objective.test_fraction = {value!r} is out of range: it holds out {held_out} of the "
                          f"{SAMPLES} images, and the test and training sets each need one at least. Allowed: a "
                          f"fraction that holds out 1 to {SAMPLES - 1} images, such as 0.001 to 0.999.")
    return fraction


class Digits(Objective):
    """Cross-entropy of a one-hidden-layer network on a minibatch of the digits' training set.

    Parameters: ``hidden.weight`` (hidden x 64), ``hidden.bias``, ``output.weight`` (10 x hidden), ``output.bias``,
    the names of the network's ``state_dict()``. Step ``t`` uses batch ``t mod k`` of epoch ``t // k`` (``k =
    train size // batch_size``, a partial last batch dropped), each epoch a permutation drawn from ``(data_seed,
    epoch)``: the batches depend on the step alone, so a resumed run sees the same ones. ``batch_size: null`` is
    full-batch. The minimum is unknown (no optimum, no loss gap); :meth:`evaluate` gives the held-out test set's
    loss and accuracy.
    """

    name = "digits"
    minibatches = True

    @classmethod
    def footprint(cls, hidden: int = 32, activation: str = "relu", batch_size: int | None = 64,
                  test_fraction: float = 0.2, eval_every: int = 10, data_seed: int = 0,
                  init_seed: int = 0) -> Footprint | None:
        if not _validate.is_count(hidden):
            return None
        # the file's table, the images and their standardised copies, and the training set as a tensor
        return Footprint((hidden * FEATURES, hidden, CLASSES * hidden, CLASSES), 8 * SAMPLES * (FEATURES + 1) * 5)

    def __init__(self, hidden: int = 32, activation: str = "relu", batch_size: int | None = 64,
                 test_fraction: float = 0.2, eval_every: int = 10, data_seed: int = 0, init_seed: int = 0) -> None:
        self.hidden = _validate.integer(hidden, "hidden", 1, 100_000)
        self.activation = _activation(activation)
        self.test_fraction = _test_fraction(test_fraction)
        self.eval_every = _validate.integer(eval_every, "eval_every", 1)
        self.data_seed = _validate.integer(data_seed, "data_seed", 0)
        self.init_seed = _validate.integer(init_seed, "init_seed", 0, 2**64 - 1)
        self.train_size = SAMPLES - round(self.test_fraction * SAMPLES)
        self.batch_size = (None if batch_size is None
                           else _validate.integer(batch_size, "batch_size", 1, self.train_size))
        self.minibatches = self.batch_size is not None
        images, labels = load_digits()
        train, test = split(SAMPLES, self.test_fraction, self.data_seed)
        x_train, x_test = standardise(images[train], images[test])
        self._constants = ConstantCache(x_train=x_train, x_test=x_test)
        self._labels = {"train": ad.tensor(labels[train]), "test": ad.tensor(labels[test])}
        state = network(self.hidden, self.activation, self.init_seed).state_dict()
        self._start = {name: state[name].numpy(force=True).astype(np.float64) for name in self.parameter_names()}

    @staticmethod
    def parameter_names() -> list[str]:
        return [f"{layer}.{kind}" for layer in LAYERS for kind in ("weight", "bias")]

    def initial_params(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self._start.items()}

    def batch(self, step: int) -> np.ndarray | None:
        """The training rows of ``step``'s minibatch (``None``: every one)."""
        if self.batch_size is None:
            return None
        per_epoch = self.train_size // self.batch_size
        epoch, k = divmod(int(step), per_epoch)
        order = np.random.default_rng([self.data_seed, epoch]).permutation(self.train_size)
        return order[k * self.batch_size : (k + 1) * self.batch_size]

    def logits(self, params, images: ad.Tensor) -> ad.Tensor:
        hidden = F.linear(images, params["hidden.weight"], params["hidden.bias"])
        return F.linear(ACTIVATIONS[self.activation][0](hidden), params["output.weight"], params["output.bias"])

    def _inputs(self, part: str, dtype, rows=None) -> tuple[ad.Tensor, ad.Tensor]:
        images, labels = self._constants.get(f"x_{part}", dtype), self._labels[part]
        if rows is None:
            return images, labels
        index = ad.tensor(rows, dtype=ad.int64)
        return images[index], labels[index]

    def loss(self, params, step):
        """The mean cross-entropy of step ``step``'s minibatch: the run's loss."""
        images, labels = self._inputs("train", params["hidden.weight"].dtype, self.batch(step))
        return F.cross_entropy(self.logits(params, images), labels)

    def full_loss(self, params):
        """The mean cross-entropy of the whole training set (what the explorer's landscape draws)."""
        images, labels = self._inputs("train", params["hidden.weight"].dtype)
        return F.cross_entropy(self.logits(params, images), labels)

    def evaluate(self, params) -> dict[str, float]:
        """``test_loss`` (mean cross-entropy) and ``test_accuracy`` (the fraction classified right) of the held-out
        images at ``params`` (arrays or tensors, in the run's dtype)."""
        with ad.no_grad():
            tensors = {name: ad.as_tensor(np.asarray(value)) if not isinstance(value, ad.Tensor) else value
                       for name, value in params.items()}
            images, labels = self._inputs("test", tensors["hidden.weight"].dtype)
            logits = self.logits(tensors, images)
            loss = float(F.cross_entropy(logits, labels).item())
            accuracy = float((logits.argmax(dim=1) == labels).double().mean().item())
        return {"test_loss": loss, "test_accuracy": accuracy}
