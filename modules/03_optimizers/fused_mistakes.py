"""Classic mistakes in the fused Adam kernel of fused.ipynb (instructor only: the edits quote the solution).

Same format as mistakes.py (owned by the optimizers notebook); tools/record_checks.py reads
`<notebook>_mistakes.py` next to `<notebook>.ipynb`. A slow but correct kernel (Numba's default
error model, float64 constants, p[j] written twice) changes no graded value: section 2 shows it
with timings and instruction counts, not with a check.
"""
from tinytorch.course.mistakes import Mistake

MISTAKES = {
    "l2_decay_in_adamw": Mistake(
        description="AdamW adds weight_decay·p to the gradient (Adam's L2) instead of shrinking p first",
        edits=(("adam_kernel", "        if decoupled:\n            pj *= decay\n        elif weight_decay != 0:",
                "        if weight_decay != 0:"),),
        catches=("test_adam_kernel",), section="2", notebook="fused"),
    "decay_ignored_in_adam": Mistake(
        description="Adam (not AdamW) ignores weight_decay: weight_decay·p never enters the moments",
        edits=(("adam_kernel", "        elif weight_decay != 0:\n            d += weight_decay * pj\n", ""),),
        catches=("test_adam_kernel",), section="2", visible=False, notebook="fused"),
    "no_bias_correction_of_v": Mistake(
        description="the second moment is not bias-corrected: sqrt(v) is not divided by sqrt(1 - beta2^t)",
        edits=(("adam_kernel", "math.sqrt(vj) / bias_correction2_sqrt + eps", "math.sqrt(vj) + eps"),),
        catches=("test_adam_kernel",), section="2", notebook="fused"),
    "eps_inside_sqrt": Mistake(
        description="eps is added inside the square root instead of after it",
        edits=(("adam_kernel", "math.sqrt(vj) / bias_correction2_sqrt + eps",
                "math.sqrt(vj / (bias_correction2_sqrt * bias_correction2_sqrt) + eps)"),),
        catches=("test_adam_kernel",), section="2", notebook="fused"),
    "moment_of_raw_gradient": Mistake(
        description="the moments use g[j] instead of the direction d (maximize and L2 decay are lost)",
        edits=(("adam_kernel", "mj += one_minus_beta1 * (d - mj)", "mj += one_minus_beta1 * (g[j] - mj)"),),
        catches=("test_adam_kernel",), section="2", visible=False, notebook="fused"),
    "amsgrad_max_not_used": Mistake(
        description="amsgrad keeps the running maximum but divides by the current v",
        edits=(("adam_kernel", "            vj = max(vmax[j], vj)\n            vmax[j] = vj",
                "            vmax[j] = max(vmax[j], vj)"),),
        catches=("test_adam_kernel",), section="2", visible=False, notebook="fused"),
}
