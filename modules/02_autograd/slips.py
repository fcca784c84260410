"""Typical wrong answers to module 02's quizzes (autograd.ipynb and nn.ipynb), with what each tells the learner.

Instructor tree only. tools/record_checks.py hashes them into the learner store of each notebook.
"""
from tinytorch.checks import Slip

_P = (784 * 256 + 256) + (256 * 256 + 256) + (256 * 10 + 10)   # parameters of the 784-256-256-10 MLP
_A = 784 + 256 + 256 + 256 + 256 + 10                          # activations kept per example

SLIPS = {
    # autograd.ipynb: L = (a·b + c·a)², a = 2, b = -3, c = 10
    "dL_da_quiz": [
        Slip(2 * 14 * -3.0, "that is only the path through a·b: a is used twice, and the path through c·a adds 2·14·10"),
        Slip(2 * 14 * 10.0, "that is only the path through c·a: a is used twice, and the path through a·b adds 2·14·(−3)"),
        Slip(14 * 7.0, "the square's derivative is 2e: 2 · 14 · (b + c)"),
    ],
    # nn.ipynb
    "mlp_param_grad_bytes": [
        Slip(_P * 4, "that is the parameters alone: their gradients take as much again"),
        Slip(2 * _P, "that counts numbers: each float32 number takes 4 bytes"),
        Slip(2 * 4 * (784 * 256 + 256 * 256 + 256 * 10), "the biases are parameters too (256 + 256 + 10 numbers)"),
        Slip(2 * _P * 4 / 2**20, "that is MiB: the answer is asked in bytes"),
    ],
    "mlp_activation_bytes_128": [
        Slip(128 * _A, "that counts numbers: each float32 number takes 4 bytes"),
        Slip(128 * (_A - 784) * 4, "the input batch is kept too: the first Linear needs it for its weight's gradient"),
        Slip(128 * (784 + 256 + 256 + 10) * 4, "each ReLU's output is kept as well as each Linear's"),
        Slip(_A * 4, "that is one example: the batch has 128"),
    ],
    "batch_where_activations_dominate": [
        Slip(2 * _P * 4 // (_A * 4), "at that batch size the activations are still fewer: the smallest batch where they are more is one larger"),
        Slip(_P * 4 // (_A * 4) + 1, "that compares with the parameters alone: their gradients count too"),
    ],
}
