"""The digits objective's network trained in torch (the oracle): its own nn.Linear layers seeded as the objective's
init_seed, on the objective's standardised data and the same minibatch at each step."""

from __future__ import annotations

import numpy as np

import autodiff as ad


def train_torch(torch, objective, optimizer_name: str, dtype, steps: int, **hyperparameters) -> dict:
    """``{"loss": [...], "test_loss": [...], "test_accuracy": [...], "model": ...}``: the minibatch loss at steps
    0..steps (the last after the last update, on step ``steps``'s minibatch, as the runner records it) and the
    test set's loss and accuracy at the same parameters."""
    torch.manual_seed(objective.init_seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, objective.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(objective.hidden, 10)).to(dtype)
    optimizer = getattr(torch.optim, optimizer_name)(model.parameters(), **hyperparameters)
    data = {part: (torch.tensor(objective._constants.get(f"x_{part}", ad.float64).numpy(), dtype=dtype),
                   torch.tensor(objective._labels[part].numpy())) for part in ("train", "test")}
    out = {"loss": [], "test_loss": [], "test_accuracy": [], "model": model}
    for step in range(steps + 1):
        rows = torch.tensor(objective.batch(step))
        images, labels = data["train"][0][rows], data["train"][1][rows]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        out["loss"].append(loss.item())
        with torch.no_grad():
            logits = model(data["test"][0])
            out["test_loss"].append(torch.nn.functional.cross_entropy(logits, data["test"][1]).item())
            out["test_accuracy"].append((logits.argmax(1) == data["test"][1]).double().mean().item())
        if step < steps:
            loss.backward()
            optimizer.step()
    return out


def as_array(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)
