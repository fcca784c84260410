"""Classic mistakes of module 02 (autograd.ipynb and nn.ipynb), each a patch of the reference solution.

Instructor tree only: the patches quote solution lines. Format: docs/checks.md, "Mistake catalogue".
The patches of `backward_engine` quote the engine's lines: if branch `fused` rewrites them for speed,
record_checks.py reports the mistake as stale and the patch must follow.
"""
from tinytorch.course.mistakes import Mistake

MISTAKES = {
    # --- 3. unbroadcast ----------------------------------------------------------------------------
    "unbroadcast_forgets_size_one_axes": Mistake(
        "unbroadcast sums the leading axes but not the axes where the operand had size 1",
        (("unbroadcast", "    stretched = tuple(i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)\n",
          "    stretched = ()\n"),),
        ("test_unbroadcast", "test_backward_basics"), section="3"),
    "unbroadcast_forgets_leading_axes": Mistake(
        "unbroadcast sums the size-1 axes but not the leading axes the operand did not have",
        (("unbroadcast", "grad.sum(axis=tuple(range(extra)) + stretched, keepdims=True)", "grad.sum(axis=stretched, keepdims=True)"),
         ("unbroadcast", "    return summed.reshape(shape)", "    return summed if summed.size != int(np.prod(shape)) else summed.reshape(shape)")),
        ("test_unbroadcast", "test_backward_basics"), section="3"),
    # --- 4. backward rules ---------------------------------------------------------------------------
    "mul_backward_swapped": Mistake(
        "Mul's backward gives each input its own value instead of the other input's",
        (("elementwise_backward", "        return grad * self.b, grad * self.a", "        return grad * self.a, grad * self.b"),),
        ("test_elementwise_backward", "test_op_gradients"), section="4"),
    "div_backward_sign": Mistake(
        "Div's gradient for the denominator lacks its minus sign (−a/b²)",
        (("elementwise_backward", "-grad * self.a / (self.b * self.b)", "grad * self.a / (self.b * self.b)"),),
        ("test_elementwise_backward", "test_op_gradients"), section="4"),
    "pow_backward_exponent_not_lowered": Mistake(
        "Pow's backward uses p·a^p instead of p·a^(p−1)",
        (("elementwise_backward", "self.a ** (self.exponent - 1)", "self.a ** self.exponent"),),
        ("test_elementwise_backward", "test_op_gradients"), section="4"),
    "relu_gradient_one_at_zero": Mistake(
        "ReLU's gradient is 1 at exactly 0 (x >= 0); PyTorch's is 0",
        (("unary_backward", "(grad * (self.x > 0),)", "(grad * (self.x >= 0),)"),),
        ("test_unary_backward", "test_op_gradients"), section="4"),
    "sigmoid_backward_of_the_input": Mistake(
        "Sigmoid's backward computes x(1 − x) of the input instead of s(1 − s) of the saved output",
        (("unary_backward", "        self.out = np.exp(-np.logaddexp(0, -x))\n", "        self.out = np.exp(-np.logaddexp(0, -x))\n        self.x = x\n"),
         ("unary_backward", "(grad * self.out * (1 - self.out),)", "(grad * self.x * (1 - self.x),)")),
        ("test_unary_backward", "test_op_gradients"), section="4"),
    "matmul_backward_without_transpose": Mistake(
        "MatMul's backward multiplies by the other operand without transposing it",
        (("matmul_backward", "        grad_a = np.matmul(grad, b.swapaxes(-1, -2))\n        grad_b = np.matmul(a.swapaxes(-1, -2), grad)",
          "        grad_a = np.matmul(grad, b.reshape(b.shape[:-2] + (b.shape[-1], b.shape[-2])))\n"
          "        grad_b = np.matmul(a.reshape(a.shape[:-2] + (a.shape[-1], a.shape[-2])), grad)"),),
        ("test_matmul_backward", "test_op_gradients"), section="4"),
    "sum_backward_without_expand_dims": Mistake(
        "Sum's backward broadcasts the gradient without putting the summed axes back first (keepdims=False)",
        (("reduction_backward", "        if not self.keepdims:\n            grad = np.expand_dims(grad, self.axes)\n        return (np.broadcast_to(grad, self.shape),)",
          "        return (np.broadcast_to(grad, self.shape),)"),),
        ("test_reduction_backward", "test_op_gradients"), section="4"),
    "mean_backward_not_divided": Mistake(
        "Mean's backward forgets to divide by the number of elements averaged",
        (("reduction_backward", "np.broadcast_to(grad / count, self.shape)", "np.broadcast_to(grad, self.shape)"),),
        ("test_reduction_backward", "test_op_gradients"), section="4"),
    # --- 6. the backward pass --------------------------------------------------------------------------
    "leaf_gradient_assigned_not_added": Mistake(
        "backward stores a leaf's gradient with = instead of adding to what is there: a second backward overwrites",
        (("backward_engine", "            else:\n                node.grad.data += grad\n", "            else:\n                node.grad = Tensor(grad)\n"),),
        ("test_backward_basics",), section="6"),
    "contributions_assigned_not_added": Mistake(
        "backward keeps only the last contribution to a tensor used twice (= instead of +=)",
        (("backward_engine", "grads[parent] = grads[parent] + parent_grad if parent in grads else parent_grad",
          "grads[parent] = parent_grad"),),
        ("test_backward_basics", "test_op_gradients"), section="6"),
    "backward_without_unbroadcast": Mistake(
        "backward hands each input the gradient of the broadcast result, without summing it to the input's shape",
        (("backward_engine", "parent_grad = unbroadcast(parent_grad, parent.shape).astype(parent.dtype, copy=False)",
          "parent_grad = np.asarray(parent_grad).astype(parent.dtype, copy=False)"),),
        ("test_backward_basics",), section="3"),
    "topological_order_appends_before_the_inputs": Mistake(
        "topological_order appends a node when it is first met, before its inputs: the walk is not in topological order",
        (("backward_engine", "        if inputs_done:\n            order.append(node)\n            continue\n",
          "        if inputs_done:\n            continue\n"),
         ("backward_engine", "        visited.add(node)\n", "        visited.add(node)\n        order.insert(0, node)\n")),
        ("test_backward_basics", "test_op_gradients"), section="6"),
    # --- 7. finite differences ---------------------------------------------------------------------------
    "numerical_grad_one_sided": Mistake(
        "numerical_grad uses the one-sided difference (f(x + ε) − f(x)) / ε, whose error is of order ε",
        (("numerical_grad", "        x[i] = original - eps\n        below = float(f(x))\n", "        x[i] = original\n        below = float(f(x))\n"),
         ("numerical_grad", "grad[i] = (above - below) / (2 * eps)", "grad[i] = (above - below) / eps")),
        ("test_numerical_grad",), section="7"),
    "softplus_overflows": Mistake(
        "Softplus computes log(1 + exp(x)) directly, which overflows to inf for large x",
        (("softplus", "        return np.logaddexp(0, x)", "        return np.log(1 + np.exp(x))"),),
        ("test_softplus",), section="7"),
    # --- nn.ipynb -------------------------------------------------------------------------------------------
    "named_parameters_children_first": Mistake(
        "named_parameters yields the sub-modules' parameters before the module's own",
        (("module_named_parameters",
          "        for name, value in vars(self).items():\n            if isinstance(value, Parameter) and value not in seen:\n"
          "                seen.add(value)\n                yield prefix + name, value\n"
          "        for name, child in self.named_children():\n            yield from child.named_parameters(prefix + name + \".\", seen)\n",
          "        for name, child in self.named_children():\n            yield from child.named_parameters(prefix + name + \".\", seen)\n"
          "        for name, value in vars(self).items():\n            if isinstance(value, Parameter) and value not in seen:\n"
          "                seen.add(value)\n                yield prefix + name, value\n"),),
        ("test_named_parameters",), section="1", notebook="nn"),
    "named_parameters_without_prefix": Mistake(
        "named_parameters gives a child's parameters their own names, without the child's name and a dot in front",
        (("module_named_parameters", "child.named_parameters(prefix + name + \".\", seen)", "child.named_parameters(prefix, seen)"),),
        ("test_named_parameters",), section="1", notebook="nn"),
    "shared_parameter_yielded_twice": Mistake(
        "a parameter shared by two layers is yielded twice (an optimizer would step it twice)",
        (("module_named_parameters", "isinstance(value, Parameter) and value not in seen", "isinstance(value, Parameter)"),),
        ("test_named_parameters",), section="1", notebook="nn"),
    "linear_bound_from_out_features": Mistake(
        "Linear's initialisation bound uses out_features instead of in_features",
        (("linear", "bound = 1.0 / np.sqrt(in_features)", "bound = 1.0 / np.sqrt(out_features)"),),
        ("test_linear",), section="2", notebook="nn"),
    "linear_bias_drawn_first": Mistake(
        "Linear draws the bias before the weight, so a seed gives other weights than PyTorch's order",
        (("linear", "        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)), dtype=dtype)\n"
                    "        self.bias = Parameter(rng.uniform(-bound, bound, (out_features,)), dtype=dtype) if bias else None\n",
          "        _bias = rng.uniform(-bound, bound, (out_features,))\n"
          "        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)), dtype=dtype)\n"
          "        self.bias = Parameter(_bias, dtype=dtype) if bias else None\n"),),
        ("test_linear",), section="2", notebook="nn"),
    "log_softmax_without_the_shift": Mistake(
        "log_softmax computes exp of the raw logits, without subtracting the maximum: large logits overflow",
        (("log_softmax", "    shifted = x - x.data.max(axis=axis, keepdims=True)\n", "    shifted = x\n"),),
        ("test_log_softmax",), section="3", notebook="nn"),
    "log_softmax_sum_without_keepdims": Mistake(
        "log_softmax sums the exponentials without keepdims, so the sum does not line up with its rows",
        (("log_softmax", "shifted.exp().sum(axis=axis, keepdims=True).log()", "shifted.exp().sum(axis=axis).log()"),),
        ("test_log_softmax",), section="3", notebook="nn"),
}
