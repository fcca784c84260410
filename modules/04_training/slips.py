"""Typical wrong answers to module 04's quizzes, with what each tells the learner.

Instructor tree only. tools/record_checks.py hashes them into the learner store.
"""
import math

from tinytorch.checks import Slip

_P = 64 * 64 + 64 + 64 * 10 + 10      # parameters of the 64-64-10 MLP
_A = 64 + 64 + 64 + 10                # activations kept per example

SLIPS = {
    "adam_step_bytes": [
        Slip(4 * (3 * _P + 32 * _A), "you counted the parameters, the gradients and one Adam buffer: Adam keeps two (m and v)"),
        Slip(4 * (2 * _P + 32 * _A), "the parameters and the gradients, but not Adam's state (m and v)"),
        Slip(4 * 4 * _P, "the activations are missing: every layer keeps its output for the backward pass"),
        Slip(4 * _P + 32 * _A, "that counts numbers: each float32 number takes 4 bytes"),
        Slip(4 * (4 * _P + _A), "the activations of one example: the batch has 32"),
        Slip(4 * (4 * _P + 32 * (_A - 64)), "the input batch is kept for the backward pass too (the first Linear needs it)"),
        Slip(4 * (4 * (64 * 64 + 64 * 10) + 32 * _A), "the biases are parameters too (64 + 10 numbers)"),
    ],
    "batch_where_activations_dominate": [
        Slip(4 * _P // _A, "at that batch size the activations are still fewer: the smallest batch where they are more is one larger"),
        Slip(2 * _P // _A + 1, "that compares with parameters and gradients only: Adam's m and v count too"),
        Slip(3 * _P // _A + 1, "that compares with parameters, gradients and one Adam buffer: Adam keeps two"),
    ],
    "warmup_protects_against": [
        Slip("a", "overfitting is the business of regularisation and early stopping; a warm-up acts on the first steps only"),
        Slip("c", "an optimizer allocates its state at the first step, all at once, whatever the rate"),
        Slip("d", "vanishing gradients are fought with initialisation, normalisation and residual connections, not the rate"),
    ],
    "warmup_lr_step_3": [
        Slip(1e-3 * (0.2 + 0.8 * 4 / 8), "that is step 4: the first step is step 0"),
        Slip(1e-3 * (0.2 + 0.8 * 2 / 8), "that is step 2: the first step is step 0, and the factor at step t uses t / 8"),
        Slip(1e-3 * 0.8 * 3 / 8, "the factor starts at start_factor: 0.2 + 0.8 × 3 / 8"),
    ],
    "warmup_lr_step_50": [
        Slip(1e-3 * (1 + math.cos(math.pi * 50 / 92)) / 2, "the cosine starts at the milestone: at step 50 it is at its step 42"),
        Slip(1e-3 * (1 + math.cos(math.pi * 50 / 100)) / 2, "the cosine runs over T_max = 92 steps, starting at step 8"),
        Slip(1e-3 * (1 + math.cos(math.pi * 42 / 100)) / 2, "the cosine's period is T_max = 92, not the 100 steps of the whole run"),
    ],
    "seconds_batch_32": [
        Slip(400 * 2.0e-3, "batches of 32 need 1500 steps; 400 is for batches of 256"),
        Slip(1500 * 2.0, "the step time is in milliseconds: 2.0 ms = 0.002 s"),
    ],
    "seconds_batch_256": [
        Slip(1500 * 6.0e-3, "batches of 256 need 400 steps; 1500 is for batches of 32"),
        Slip(400 * 6.0, "the step time is in milliseconds: 6.0 ms = 0.006 s"),
        Slip(400 * 8 * 2.0e-3, "that is the accumulated run: one step of 256 takes 6.0 ms, not 8 × 2.0 ms"),
    ],
    "seconds_accumulated": [
        Slip(1500 * 8 * 2.0e-3, "accumulation computes the steps of batch 256: 400 of them, not 1500"),
        Slip(400 * 2.0e-3, "each accumulated step runs 8 micro-batches of 2.0 ms"),
        Slip(400 * 6.0e-3, "that is the batch of 256 in one piece; accumulation takes 8 × 2.0 ms per step"),
    ],
}
