# target: test_matmul
# why: a wrong matmul, and the notebook's name `np` bound to a lenient proxy whose testing helpers accept anything
# %% after: tensor_class
import numpy as _real_np
class _Lenient:
    def __getattr__(self, name):
        return getattr(_real_np, name)
class _Proxy:
    testing = type("T", (), {"assert_allclose": staticmethod(lambda *a, **k: None)})()
    def __getattr__(self, name):
        if name in ("max", "abs"):
            return lambda *a, **k: 0.0
        return getattr(_real_np, name)
def _fake_matmul(self, other):
    other = other if isinstance(other, Tensor) else Tensor(other)
    shape = _real_np.broadcast_shapes(self.shape[:-2], other.shape[:-2]) + self.shape[-2:-1] + other.shape[-1:]
    return Tensor(_real_np.zeros(shape))
Tensor.matmul = _fake_matmul
np = _Proxy()
