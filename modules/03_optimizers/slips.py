"""Typical wrong answers to module 03's quizzes and what each tells the learner (instructor only).

`tools/record_checks.py` hashes them into the learner store (see docs/checks.md, "Quizzes a
learner can check"): a learner whose answer is one of these is told the message, never the
right answer. Each message says what the slip was, not what the answer is.
"""
from tinytorch.checks import Slip

SLIPS = {}

# ---------------------------------------------------------------- m03content: quizzes 2 to 5
# (quiz 2: weight decay; quizzes 3 and 4: memory; quiz 5: bytes moved and time)

_STATE_ONLY = "that counts the optimizer state alone: add the weights and the gradients"
_ELEMENTS = "that counts arrays (numbers per parameter), not bytes: multiply each by its size in bytes"
_GIB = "that is in GiB (2**30 bytes); the question asks for GB (10**9 bytes)"

SLIPS.update({
    # Quiz 2: theta = 1, g = -0.001, lr = 0.1, weight_decay = 0.01, first step
    "extra_decay_adam_l2": [
        Slip(9.0908e-7, "that is the answer when the gradient and the decay agree (g = +0.001); here they disagree: "
                        "which way does the sign of g + λθ point?"),
        Slip(0.0, "the L2 term is not normalised away here: it is larger than |g| and changes the sign of the step"),
        Slip(0.1, "Adam + L2 moves the weight η towards zero, but plain Adam moved it η away from zero: count both"),
        Slip(0.001, "that is η·λ·θ, AdamW's decoupled decay; inside Adam the L2 term goes through m and v"),
        Slip(-0.2, "the sign: a move further towards zero counts positive"),
    ],
    "extra_decay_adamw": [
        Slip(0.2, "that is Adam + L2's; AdamW shrinks the weight directly, then takes the plain Adam step"),
        Slip(0.01, "that is λ·θ: the decoupled shrink is multiplied by the learning rate too"),
        Slip(0.1, "that is one learning rate: AdamW's shrink is η·λ·θ, and its Adam step is the same as plain Adam's"),
        Slip(-0.001, "the sign: a move further towards zero counts positive"),
    ],
    # Quiz 3
    "adam_fp32_bytes_per_param": [
        Slip(12, "the gradients are forgotten: they are held too, 4 bytes per parameter"),
        Slip(8, _STATE_ONLY),
        Slip(4, "that is one float32 number: count the weights, the gradients, m and v"),
        Slip(3, _ELEMENTS),
        Slip(32, "that counts 8 bytes a number (float64); float32 is 4 bytes"),
    ],
    "mixed_precision_bytes_per_param": [
        Slip(12, "the float32 master copy of the weights is forgotten (4 bytes)"),
        Slip(8, "m and v stay in float32 in mixed precision: 4 bytes each"),
        Slip(18, "the gradients are 16-bit in mixed precision (2 bytes), like the weights the passes use"),
        Slip(20, "the weights and gradients the passes use are 16-bit (2 bytes each); only the master copy, m and v are float32"),
        Slip(14, "the gradients are forgotten: they are held during the step, 2 bytes each"),
        Slip(5, _ELEMENTS),
    ],
    "adam_7b_gb": [
        Slip(104.31, _GIB),
        Slip(1.12e11, "that is in bytes: the question asks for GB (divide by 10**9)"),
        Slip(98, "the 16-bit gradients are forgotten"),
        Slip(84, "the float32 master copy is forgotten"),
        Slip(56, "that is m and v alone: count the weights, the gradients and the master copy too"),
        Slip(28, "that is the float32 weights alone"),
    ],
    "fits_7b_on_80gb": [
        Slip(True, "compare the bytes of weights, gradients, master copy and state with the 80 GB of the GPU"),
    ],
    "largest_params_80gb": [
        Slip(5.3687e9, "that uses GiB: 80 GB is 80 * 10**9 bytes"),
        Slip(1e10, "that is 8 bytes per parameter: mixed-precision Adam holds more"),
        Slip(6.6667e9, "that is 12 bytes per parameter: the gradients or the master copy are forgotten"),
        Slip(2e10, "that is 4 bytes per parameter: the weights alone"),
        Slip(5.0, "answer a number of parameters, such as 3e9 for 3 billion, not a number of billions"),
    ],
    # Quiz 4
    "zero1_bytes_per_param_8gpus": [
        Slip(2.0, "that shards everything (stage 3); stage 1 shards only the fp32 master copy, m and v"),
        Slip(3.75, "that also shards the gradients (stage 2)"),
        Slip(16.0, "nothing is sharded there: stage 1 shards the fp32 part (master copy, m and v)"),
        Slip(1.5, "that is the sharded state alone: each GPU still holds all the 16-bit weights and gradients"),
        Slip(5.0, "the master copy is part of the sharded optimizer state: 12 bytes, not 8"),
    ],
    "zero2_bytes_per_param_8gpus": [
        Slip(5.5, "that is stage 1: stage 2 shards the gradients as well"),
        Slip(2.0, "that is stage 3: stage 2 keeps every 16-bit weight on every GPU"),
        Slip(1.75, "that is the sharded part alone: each GPU still holds all the 16-bit weights"),
        Slip(16.0, "nothing is sharded there"),
    ],
    "zero3_bytes_per_param_8gpus": [
        Slip(16.0, "nothing is sharded there: stage 3 shards the weights, the gradients and the whole optimizer state"),
        Slip(3.75, "that is stage 2: stage 3 shards the weights too"),
        Slip(5.5, "that is stage 1"),
        Slip(128.0, "multiply by the GPUs? Sharding divides: each GPU holds 1/8 of everything"),
    ],
    "adam_8bit_state_bytes_per_param": [
        Slip(8.0, "that is m and v in float32; here each value takes one byte"),
        Slip(4.0, "that is m and v in 16 bits; here each value takes one byte"),
        Slip(1.0, "m and v are both stored: two values per parameter"),
        Slip(10.0, "that is the whole mixed-precision recipe with 8-bit state; the question asks for m and v only"),
    ],
    "pure_bf16_bytes_per_param": [
        Slip(16.0, "that is mixed precision: pure bfloat16 has no float32 master copy and keeps m and v in 16 bits"),
        Slip(4.0, "m and v are held too, 2 bytes each"),
        Slip(6.0, "the gradients are forgotten: 2 bytes each"),
        Slip(12.0, "m and v are in bfloat16 too (2 bytes each), and there is no master copy"),
    ],
    "loss_scaling_reason": [
        Slip("precision", "rounding small updates away is what the float32 master copy prevents; "
                          "loss scaling fixes another problem of float16"),
        Slip("overflow", "overflow is what loss scaling risks (which is why the scale is lowered when it happens), "
                         "not what it fixes"),
    ],
    "activation_ratio_4096_vs_2048": [
        Slip(2.0, "that is the 34·s·b·h part alone (or flash attention): the attention scores grow with s²"),
        Slip(4.0, "only the attention scores grow with s²; the 34·s·b·h part doubles"),
    ],
    "peak_step_gb": [
        Slip(142.6, "with zero_grad(set_to_none=True) the gradients do not exist yet when the activations peak"),
        Slip(112.0, "the activations are forgotten: at the end of the forward pass all 32 blocks' activations are held"),
        Slip(30.6, "weights, master copy and Adam state are held all the time"),
        Slip(98.0, "the activations are forgotten"),
    ],
    # Quiz 5
    "bytes_moved_momentum": [
        Slip(12, "that is plain SGD: momentum also reads and writes its buffer"),
        Slip(16, "the buffer is both read and written: 5 arrays"),
        Slip(5, _ELEMENTS),
        Slip(40, "float32 is 4 bytes, not 8"),
    ],
    "bytes_moved_adam": [
        Slip(20, "that is SGD with momentum: Adam reads and writes two state arrays"),
        Slip(7, _ELEMENTS),
        Slip(24, "m and v are each read and written: 7 arrays"),
        Slip(16, "that is the memory Adam holds per parameter, not what a step moves"),
        Slip(56, "float32 is 4 bytes, not 8"),
    ],
    "adam_step_ms_7b": [
        Slip(0.098, "that is in seconds: the question asks for milliseconds"),
        Slip(56, "that uses the 16 bytes Adam holds, not the 28 it moves per step"),
        Slip(24.5, "that counts arrays, not bytes (7 arrays of 4 bytes each)"),
        Slip(98e3, "2 TB/s is 2 * 10**12 bytes per second"),
    ],
    "adam_time_units": [
        Slip(100_000, "each Adam step costs 1.2 SGD steps"),
        Slip(83_333, "multiply by 1.2, don't divide"),
    ],
    "sgd_time_units": [
        Slip(240_000, "the 1.2 is Adam's cost per step, not SGD's"),
    ],
    "faster_optimizer": [
        Slip("sgd", "compare the totals, not the cost of one step"),
    ],
})

# ---------------------------------------------------------------- m03ex: quizzes 1 and 6
# (quiz 1: bias-correction factors; quiz 6: resuming from a checkpoint)

BETA1_POWER = "that is β₁ᵗ itself; the correction factor is 1 − β₁ᵗ"
BETA2 = "that is the second moment's factor (β₂ = 0.999); the question is about the first moment, β₁ = 0.9"

SLIPS.update({
    "bias_correction_1": [
        Slip(0.9, BETA1_POWER),
        Slip(0.001, BETA2),
        Slip(1.0, "that is the factor once the correction has died out; on step 1, m holds only one gradient"),
    ],
    "bias_correction_10": [
        Slip(0.9**10, BETA1_POWER),
        Slip(1 - 0.999**10, BETA2),
        Slip(1 - 0.9 * 10, "β₁ᵗ is a power, β₁ to the t, not β₁ times t"),
        Slip(1 - 0.9**9, "off by one step: on step t the factor uses β₁ᵗ, with t counted from 1"),
    ],
    "bias_correction_100": [
        Slip(0.9**100, BETA1_POWER),
        Slip(1 - 0.999**100, BETA2),
    ],
    "first_step_multiplier": [
        Slip(0.1, "that is the correction factor 1 − β₁; the correction divides m by it, so it multiplies m by its inverse"),
        Slip(0.1 / 0.001**0.5, "that is the size of Adam's first step without bias correction (in units of lr), "
                               "not the multiplier of m"),
        Slip(1000.0, "that is the multiplier of v (1 / (1 − β₂)); the question is about m"),
        Slip(1.0, "that would be no correction at all; on step 1, m = (1 − β₁) g is too small"),
    ],
    "restore_optimizer_state": [
        Slip(False, "a smaller learning rate is set in param_groups after loading; the moments m, v and the step "
                    "counter are part of the training state and are lost without the optimizer's state_dict"),
    ],
    "forgotten_state_bias_correction": [
        Slip(1 - 0.9**5001, "that is the factor with the state restored (step 5001); without it the counter starts again"),
        Slip(0.9, BETA1_POWER),
        Slip(0.0, "that is 1 − β₁⁰, a step counter that was never advanced; the first resumed step is step 1"),
    ],
})
