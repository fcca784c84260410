"""Classic mistakes in the two exercises of modern.ipynb (instructor only: the edits quote solution lines).

Each is a patch of the reference solution; tools/record_checks.py turns them into fingerprints so that
the visible checks can name them, and the learner-loop test checks that a visible check does.
"""
from tinytorch.course.mistakes import Mistake

NS = "newton_schulz"
FSM = "factored_second_moment"
NS_CELLS = ("test_newton_schulz", "test_muon")
FSM_CELLS = ("test_factored_second_moment", "test_adafactor")
ROW_LERP = "lerp_(row_var, squared.mean(axis=-1, keepdims=True), weight)"
COL_LERP = "lerp_(col_var, squared.mean(axis=-2, keepdims=True), weight)"

MISTAKES = {
    # --- Exercise 1: newton_schulz ------------------------------------------------------------------------
    "ns_not_normalised": Mistake(
        "the matrix is not divided by its Frobenius norm first, so its singular values are not <= 1 and the iteration blows up",
        ((NS, "x = x / max(np.linalg.norm(x), eps)", "x = x"),), NS_CELLS, section="1", notebook="modern"),
    "ns_spectral_norm": Mistake(
        "the matrix is divided by its largest singular value (np.linalg.norm(x, 2)) instead of its Frobenius norm",
        ((NS, "max(np.linalg.norm(x), eps)", "max(np.linalg.norm(x, 2), eps)"),), NS_CELLS, section="1", notebook="modern"),
    "ns_norm_plus_eps": Mistake(
        "eps is added to the norm (norm + eps) instead of being a floor for it (max(norm, eps))",
        ((NS, "max(np.linalg.norm(x), eps)", "(np.linalg.norm(x) + eps)"),), NS_CELLS, section="1", notebook="modern"),
    "ns_gram_on_the_wrong_side": Mistake(
        "the Gram matrix is Xᵀ X, but the step multiplies it on the left of X: it must be A = X Xᵀ",
        ((NS, "gram = x @ x.T", "gram = x.T @ x"),), NS_CELLS, section="1", notebook="modern"),
    "ns_coefficients_swapped": Mistake(
        "a and c are swapped: a multiplies X, b the cubic term (A X), c the quintic term (A² X)",
        ((NS, "x = a * x + (b * gram + c * gram @ gram) @ x", "x = c * x + (b * gram + a * gram @ gram) @ x"),),
        NS_CELLS, section="1", notebook="modern"),
    "ns_no_quintic_term": Mistake(
        "the quintic term is c·A X instead of c·A² X",
        ((NS, "c * gram @ gram", "c * gram"),), NS_CELLS, section="1", notebook="modern"),
    "ns_one_step_short": Mistake(
        "the loop runs steps − 1 times",
        ((NS, "for _ in range(steps):", "for _ in range(steps - 1):"),), NS_CELLS, section="1", notebook="modern"),
    "ns_not_transposed_back": Mistake(
        "a tall matrix is worked on as its transpose but not transposed back",
        ((NS, "return x.T if tall else x", "return x"),), NS_CELLS, section="1", notebook="modern"),
    # --- Exercise 2: factored_second_moment ----------------------------------------------------------------
    "fsm_sums_not_means": Mistake(
        "sums of g² over rows and columns instead of means (the paper's sums need a different normalisation)",
        ((FSM, ROW_LERP, ROW_LERP.replace(".mean(", ".sum(")), (FSM, COL_LERP, COL_LERP.replace(".mean(", ".sum("))),
        FSM_CELLS, section="3", notebook="modern"),
    "fsm_no_running_mean": Mistake(
        "row_var and col_var are overwritten with this step's means instead of moved towards them by `weight`",
        ((FSM, ROW_LERP, "row_var[...] = squared.mean(axis=-1, keepdims=True)"),
         (FSM, COL_LERP, "col_var[...] = squared.mean(axis=-2, keepdims=True)")), FSM_CELLS, section="3", notebook="modern"),
    "fsm_state_not_in_place": Mistake(
        "the running means are computed on copies, so the optimizer's row_var and col_var never change",
        ((FSM, ROW_LERP, "row_var = " + ROW_LERP.replace("lerp_(row_var,", "lerp_(row_var.copy(),")),
         (FSM, COL_LERP, "col_var = " + COL_LERP.replace("lerp_(col_var,", "lerp_(col_var.copy(),"))),
        FSM_CELLS, section="3", notebook="modern"),
    "fsm_weight_reversed": Mistake(
        "the running means move by 1 − weight instead of weight (at the first step they must become the means)",
        ((FSM, ROW_LERP, ROW_LERP.replace("weight)", "1 - weight)")), (FSM, COL_LERP, COL_LERP.replace("weight)", "1 - weight)"))),
        FSM_CELLS, section="3", notebook="modern"),
    "fsm_divides_by_the_sum": Mistake(
        "R C is divided by the sum of R over the rows instead of its mean",
        ((FSM, "np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)", "np.maximum(row_var.sum(axis=-2, keepdims=True), eps1)"),),
        FSM_CELLS, section="3", notebook="modern"),
    "fsm_no_eps_floor": Mistake(
        "the denominator has no eps1 floor, so an all-zero gradient gives 0 / 0 = NaN",
        ((FSM, "np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)", "row_var.mean(axis=-2, keepdims=True)"),),
        ("test_factored_second_moment",), section="3", notebook="modern"),   # Adafactor's test never has a zero gradient
    "fsm_returns_the_full_square": Mistake(
        "the estimate returned is g² itself rather than the factored R C / mean(R)",
        ((FSM, "return (row_var @ col_var) / np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)", "return squared"),),
        FSM_CELLS, section="3", notebook="modern"),
}
