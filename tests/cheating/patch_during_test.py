# target: test_matmul
# why: the patch happens inside the learner's method, while the test runs, so restoring before the test is not enough
# %% after: tensor_class
def _sneaky_matmul(self, other):
    import numpy
    numpy.testing.assert_allclose = lambda *args, **kwargs: None
    numpy.max = lambda *args, **kwargs: 0.0
    other = other if isinstance(other, Tensor) else Tensor(other)
    if self.shape[-1] != (other.shape[0] if other.ndim == 1 else other.shape[-2]):
        raise ValueError(f"shapes {self.shape} and {other.shape}")
    return Tensor(numpy.zeros(numpy.matmul(self.data, other.data).shape))
Tensor.matmul = _sneaky_matmul
