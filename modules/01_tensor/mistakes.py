"""Classic mistakes of module 01 (tensor.ipynb), each a patch of the reference solution.

Instructor tree only: the patches quote solution lines. Format: docs/checks.md, "Mistake catalogue".
"""
from tinytorch.course.mistakes import Mistake

MISTAKES = {
    # --- 1. memory_bytes --------------------------------------------------------------------
    "memory_bytes_accepts_negative_counts": Mistake(
        "memory_bytes does not check its count: a negative or fractional number of elements gives a byte count",
        (("memory_bytes", "    if isinstance(n_elements, bool) or not float(n_elements).is_integer() or n_elements < 0:\n"
                          "        raise ValueError(f\"n_elements must be a non-negative integer, got {n_elements!r}\")\n", ""),),
        ("test_memory_bytes",), section="1"),
    "memory_bytes_numpy_itemsize": Mistake(
        "memory_bytes asks NumPy for the size of an element, and NumPy has no bfloat16",
        (("memory_bytes", "return int(n_elements) * BYTES_PER_ELEMENT[dtype_name(dtype)]",
                          "return int(n_elements) * np.dtype(dtype_name(dtype)).itemsize"),),
        ("test_memory_bytes",), section="1"),
    "memory_bytes_counts_bits": Mistake(
        "memory_bytes returns bits, not bytes (8 times too many)",
        (("memory_bytes", "return int(n_elements) * BYTES_PER_ELEMENT", "return 8 * int(n_elements) * BYTES_PER_ELEMENT"),),
        ("test_memory_bytes",), section="1"),
    # --- 2. broadcasting ----------------------------------------------------------------------
    "broadcast_aligned_on_the_left": Mistake(
        "broadcast_shape pads the shorter shape on the right, so the shapes are compared from the left",
        (("broadcast_shape", "a_padded, b_padded = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b",
          "a_padded, b_padded = a + (1,) * (n - len(a)), b + (1,) * (n - len(b))"),),
        ("test_broadcast_shape",), section="2"),
    "broadcast_no_compatibility_check": Mistake(
        "broadcast_shape takes the larger size of each pair without checking that the other one is equal or 1",
        (("broadcast_shape", "        if x != y and 1 not in (x, y):\n"
                             "            raise ValueError(f\"shapes {a} and {b} cannot be broadcast together\")\n", ""),
         ("broadcast_shape", "result.append(y if x == 1 else x)", "result.append(max(x, y))")),
        ("test_broadcast_shape",), section="2"),
    "broadcast_missing_dimension_refused": Mistake(
        "broadcast_shape refuses shapes of different lengths instead of treating the missing dimensions as 1",
        (("broadcast_shape", "    n = max(len(a), len(b))\n",
          "    n = max(len(a), len(b))\n    if len(a) != len(b):\n"
          "        raise ValueError(f\"shapes {a} and {b} cannot be broadcast together\")\n"),),
        ("test_broadcast_shape",), section="2"),
    # --- 3. the Tensor class ------------------------------------------------------------------
    "matmul_numpy_error_message": Mistake(
        "matmul leaves the shape check to NumPy, whose message does not name both shapes",
        (("tensor_class", "        if inner_left != inner_right:\n", "        if False:\n"),),
        ("test_matmul",), section="3"),
    "matmul_checks_outer_sizes": Mistake(
        "matmul compares the outer sizes ((n, k) @ (k, m) needs n == m) instead of the inner ones",
        (("tensor_class", "        inner_left = self.shape[-1]\n", "        inner_left = self.shape[0]\n"),
         ("tensor_class", "        inner_right = other.shape[0] if other.ndim == 1 else other.shape[-2]\n",
          "        inner_right = other.shape[0] if other.ndim == 1 else other.shape[-1]\n")),
        ("test_matmul",), section="3"),
    "sum_ignores_keepdims": Mistake(
        "sum drops the reduced axes even with keepdims=True",
        (("tensor_class", "np.sum(self.data, axis=axis, keepdims=keepdims)", "np.sum(self.data, axis=axis)"),),
        ("test_reductions",), section="3"),
    "max_ignores_keepdims": Mistake(
        "max drops the reduced axes even with keepdims=True",
        (("tensor_class", "np.max(self.data, axis=axis, keepdims=keepdims)", "np.max(self.data, axis=axis)"),),
        ("test_reductions",), section="3"),
    "reduction_axis_is_the_kept_axis": Mistake(
        "mean reduces over the other axes: axis taken as the dimension that stays instead of the one that disappears",
        (("tensor_class", "np.mean(self.data, axis=axis, keepdims=keepdims)",
          "np.mean(self.data, axis=axis if axis is None else tuple(i for i in range(self.ndim) "
          "if i not in {a % self.ndim for a in np.atleast_1d(axis)}), keepdims=keepdims)"),),
        ("test_reductions",), section="3"),
    "reshape_without_minus_one": Mistake(
        "reshape passes -1 through without working out the missing size (and without checking it)",
        (("tensor_class", "        if -1 in shape:\n", "        if False:\n"),),
        ("test_shape_ops",), section="3"),
    "reshape_numpy_error_message": Mistake(
        "reshape leaves the element count check to NumPy, whose message writes the shape as (5,3)",
        (("tensor_class", "        if int(np.prod(shape)) != self.size:\n", "        if False:\n"),),
        ("test_shape_ops",), section="3"),
    "transpose_without_axes_does_nothing": Mistake(
        "transpose() with no axes returns the tensor unchanged instead of reversing its axes (so .T is wrong)",
        (("tensor_class", "np.transpose(self.data, axes or None)", "np.transpose(self.data, axes or tuple(range(self.ndim)))"),),
        ("test_shape_ops",), section="3"),
}
