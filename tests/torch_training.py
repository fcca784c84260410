"""The torch side of module 04's parity tests: a torch copy of a tinytorch MLP, and one optimizer
step with gradient accumulation written with torch (the replica both test files compare against)."""
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests


def torch_copy(model):
    "A torch Sequential with the tinytorch MLP's layers and weights (float64)."
    layers = []
    for _, layer in model.named_children():
        if hasattr(layer, "weight"):
            linear = torch.nn.Linear(layer.in_features, layer.out_features).double()
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.weight.data))
                linear.bias.copy_(torch.from_numpy(layer.bias.data))
            layers.append(linear)
        else:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def torch_accumulated_step(model, optimizer, X, y, row_groups, max_grad_norm=None):
    """One optimizer step over the micro-batches `row_groups` (index arrays into X, y), each loss
    weighted by its share of the rows; returns (mean loss over the rows, total gradient norm or None)."""
    n = sum(len(rows) for rows in row_groups)
    optimizer.zero_grad()
    total = 0.0
    for rows in row_groups:
        loss = torch.nn.functional.cross_entropy(model(X[rows]), y[rows])
        (loss * (len(rows) / n)).backward()
        total += loss.item() * len(rows)
    norm = None
    if max_grad_norm is not None:
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm).item()
    optimizer.step()
    return total / n, norm
