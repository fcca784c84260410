"""Typical wrong answers to module 01's quizzes, with what each tells the learner.

Instructor tree only (the values are near the answers). tools/record_checks.py hashes them into the
learner store, so that a quiz's visible check can name the slip without the answer being readable.
"""
from tinytorch.checks import Slip

_GIB = 2**30
_N = 10**10

SLIPS = {
    "fp32_gib_10b": [
        Slip(4 * _N / 1e9, "that is GB (10⁹ bytes); a GiB is 2³⁰ bytes, 7 % more"),
        Slip(4 * _N, "that is the number of bytes: divide by 2³⁰ for GiB"),
        Slip(_N / _GIB, "that counts elements: each float32 element takes 4 bytes"),
        Slip(2 * _N / _GIB, "2 bytes per element is float16/bfloat16; float32 takes 4"),
        Slip(32 * _N / _GIB, "that counts bits: a byte is 8 bits"),
    ],
    "bf16_gib_10b": [
        Slip(2 * _N / 1e9, "that is GB (10⁹ bytes); a GiB is 2³⁰ bytes, 7 % more"),
        Slip(2 * _N, "that is the number of bytes: divide by 2³⁰ for GiB"),
        Slip(4 * _N / _GIB, "4 bytes per element is float32; bfloat16 takes 2"),
        Slip(_N / _GIB, "that counts elements (or 1 byte each): bfloat16 takes 2 bytes per element"),
    ],
    "int8_gib_10b": [
        Slip(_N / 1e9, "that is GB (10⁹ bytes); a GiB is 2³⁰ bytes, 7 % more"),
        Slip(_N, "that is the number of bytes: divide by 2³⁰ for GiB"),
        Slip(2 * _N / _GIB, "2 bytes per element is float16/bfloat16; int8 takes 1"),
        Slip(8 * _N / _GIB, "that counts bits: a byte is 8 bits"),
    ],
    "max_fp16_params_24gib": [
        Slip(24e9 / 2, "that uses 24 GB (24 × 10⁹ bytes); the GPU has 24 GiB = 24 × 2³⁰ bytes"),
        Slip(24 * _GIB, "that is the number of bytes: each float16 parameter takes 2"),
        Slip(24 * _GIB / 4, "4 bytes per parameter is float32; float16 takes 2"),
        Slip(24 * _GIB * 8 / 2, "that counts bits as if they were bytes"),
    ],
    "linear_4096_fp32_bytes": [
        Slip(4096 * 4096 * 4, "that is the weight matrix alone: the bias adds 4096 numbers"),
        Slip(4096 * 4096 + 4096, "that counts numbers: each float32 number takes 4 bytes"),
        Slip((4096 * 4096 + 4096) * 2, "2 bytes per number is float16; float32 takes 4"),
        Slip((4096 * 4096 + 4096) * 8, "8 bytes per number is float64; float32 takes 4"),
        Slip((4096 * 4096 + 4096) * 4 / 2**20, "that is MiB: the answer is asked in bytes"),
        Slip((4096 * 4096 * 2) * 4, "that counts two weight matrices"),
    ],
}
