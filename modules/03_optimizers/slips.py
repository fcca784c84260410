"""Typical wrong answers to module 03's quizzes 1 (bias-correction factors) and 6 (resuming), with what each tells.

`SLIPS = {answer_name: [Slip(value, message), ...]}` (docs/checks.md, "Quizzes a learner can check"):
the record tool hashes each value at the answer's tolerance, so that the visible `check.quiz` can
say "wrong: <message>" for these slips without the right answer being readable. Instructor only.
The other quizzes of the module (weight decay, memory, cost) belong to the content work (#12).
"""
from tinytorch.checks import Slip

BETA1_POWER = "that is β₁ᵗ itself; the correction factor is 1 − β₁ᵗ"
BETA2 = "that is the second moment's factor (β₂ = 0.999); the question is about the first moment, β₁ = 0.9"

SLIPS = {
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
}
