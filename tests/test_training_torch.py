"""Whole training runs of the module-04 MLP on digits, tinytorch against torch 2.13, in float64.

Same initial weights (tinytorch's, copied into torch), same batch order (the DataLoader's seeded
permutations, replayed by index), same loss: the loss of every optimizer step must agree to 1e-8.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")  # the numerical reference; the suite runs without it, minus these tests
from threadpoolctl import threadpool_limits
from torch_training import torch_accumulated_step, torch_copy

from tinytorch.core import optimizers as tto
from tinytorch.core import training as tt
from tinytorch.core.nn import CrossEntropyLoss

pytestmark = pytest.mark.torch
TOL = 1e-8
# These matrices are tiny: threads only add contention (with pytest -n 2 on 2 cores, badly so).
torch.set_num_threads(1)
threadpool_limits(1)


@pytest.fixture(scope="module")
def digits():
    return tt.load_digits_split(seed=0, dtype="float64")


def batch_order(n, batch_size, seed, epochs):
    "The index batches a shuffled DataLoader(generator=seed) yields: one permutation per epoch."
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(epochs):
        order = rng.permutation(n)
        batches += [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return batches


def torch_losses(model, X, y, batches, optimizer, scheduler=None, accumulation=1, max_grad_norm=None,
                 batches_per_epoch=None):
    "The loss of every optimizer step of the same loop, written with torch."
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    losses = []
    epochs = [batches[i:i + batches_per_epoch] for i in range(0, len(batches), batches_per_epoch)]
    for epoch in epochs:   # accumulation groups never cross an epoch
        for start in range(0, len(epoch), accumulation):
            loss, _ = torch_accumulated_step(model, optimizer, X, y, epoch[start:start + accumulation], max_grad_norm)
            if scheduler is not None:
                scheduler.step()
            losses.append(loss)
    return np.array(losses)


def warmup_cosine(module, optimizer, warmup, total):
    return module.SequentialLR(optimizer, [module.LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
                                           module.CosineAnnealingLR(optimizer, T_max=total - warmup)],
                               milestones=[warmup])


CASES = {
    "sgd_momentum": dict(ours=lambda p: tto.SGD(p, lr=0.05, momentum=0.9),
                         theirs=lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    "adamw": dict(ours=lambda p: tto.AdamW(p, lr=3e-3, weight_decay=0.01),
                  theirs=lambda p: torch.optim.AdamW(p, lr=3e-3, weight_decay=0.01)),
    "adamw_warmup_cosine_accumulation_clipping": dict(
        ours=lambda p: tto.AdamW(p, lr=1e-2), theirs=lambda p: torch.optim.AdamW(p, lr=1e-2),
        schedule=True, accumulation=3, max_grad_norm=1.0),
    "sgd_nesterov_accumulation": dict(ours=lambda p: tto.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
                                      theirs=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                                                       weight_decay=1e-4),
                                      accumulation=4),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_run_equals_torch(digits, name):
    case = CASES[name]
    epochs, batch_size, seed = 5, 32, 100
    accumulation, max_grad_norm = case.get("accumulation", 1), case.get("max_grad_norm")
    loader = tt.DataLoader(tt.ArrayDataset(digits.X_train, digits.y_train), batch_size=batch_size, shuffle=True,
                           generator=seed)
    model = tt.make_mlp(seed=0, dtype="float64")
    reference = torch_copy(model)
    optimizer = case["ours"](model.parameters())
    torch_optimizer = case["theirs"](reference.parameters())
    steps = epochs * -(-len(loader) // accumulation)
    scheduler = warmup_cosine(tt, optimizer, 20, steps) if case.get("schedule") else None
    torch_scheduler = (warmup_cosine(torch.optim.lr_scheduler, torch_optimizer, 20, steps) if case.get("schedule")
                       else None)

    history = tt.fit(model, loader, CrossEntropyLoss(), optimizer, epochs, scheduler=scheduler,
                     accumulation_steps=accumulation, max_grad_norm=max_grad_norm, progress=False)
    expected = torch_losses(reference, digits.X_train, digits.y_train,
                            batch_order(len(digits.y_train), batch_size, seed, epochs), torch_optimizer,
                            torch_scheduler, accumulation, max_grad_norm, batches_per_epoch=len(loader))

    ours = np.array(history["step_loss"])
    assert ours.shape == expected.shape == (steps,)
    assert np.max(np.abs(ours - expected)) <= TOL, np.max(np.abs(ours - expected))
    assert expected[-1] < 0.5 * expected[0]   # it did learn
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=1e-8)
    if scheduler is not None:
        np.testing.assert_allclose(history["step_lr"][:3], [1e-4, 1e-4 + 9.9e-4 * 0.05 * 10, 1e-4 + 9.9e-4 * 0.1 * 10],
                                   rtol=1e-12)
