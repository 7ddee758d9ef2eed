"""The long-tail linear model of Zhou, Ma and Ge (2025): data, min-norm solvers, losses, theory.

Math conventions (as in the chapter book/part2/long_tail_world.ipynb). Feature indices are
1-based in formulas and 0-based in arrays (array entry ``p[0]`` is p_1).

- Data: x in {-1, 0, +1}^d, coordinate i non-zero independently with probability
  p_i = min(1, s i^-alpha / Z_alpha), Z_alpha = sum_{i<=d} i^-alpha, fair-coin sign.
- Head = the first k features, k the largest index with n p_k >= c (c = 10 in the paper).
- Target y = <beta*, x> + sigma * z, z ~ N(0, 1); default beta*_i = i^-0.1.
- Learner: beta_hat = X^+ y, the limit of gradient descent from 0 on (1/n)||X b - y||^2.

Public API
----------
Feature model (:mod:`memcomp.linear.features`)
    ``as_rng(rng)``, ``check_design(X)``, ``zipf_normalizer(d, alpha)``,
    ``feature_probabilities(d, alpha, s)``, ``head_size(n, p, c=10.0)``,
    ``default_beta_star(d, exponent=0.1)``, ``resolve_beta_star(beta_star, d)``,
    ``LongTailModel(n, d, s, alpha, sigma=0.0, c=10.0, beta_exponent=0.1)`` (frozen; ``.p``,
    ``.k``, ``.beta_star``, ``.tail_mass``), ``sample_design(n, p, rng)`` (CSR, float64 in
    {-1, 0, 1}), ``sample_targets(X, beta_star, sigma, rng)``, ``sample_problem(model, rng)``
    -> ``LongTailProblem`` (X, y, y_clean, noise, ...; ``.targets(sigma)`` reuses the noise).
Solvers (:mod:`memcomp.linear.solvers`)
    ``min_norm_solution(X, y, method="auto")``, ``MinNormFactorization(X, method="auto")``
    with ``.solve(y)`` / ``.solve_many(Y)``, ``dense_min_norm(X, y)``,
    ``ridge_solution(X, y, lam)``, ``ridge_path(X, y, lams)``,
    ``gradient_descent(X, y, *, lr=None, steps=1000, record_every=None)`` -> ``GDResult``,
    ``top_singular_value(X)``.
Metrics (:mod:`memcomp.linear.metrics`)
    ``population_loss``, ``ood_loss``, ``sample_test_set``, ``monte_carlo_loss``,
    ``feature_counts``, ``feature_groups`` -> ``FeatureGroups``, ``feature_errors``,
    ``structure_stats`` -> ``StructureStats``, ``recovered_features``,
    ``recovered_fraction``, ``compositional_features``, ``ood_set_exists``,
    ``mean_ood_loss``.
Theory (:mod:`memcomp.linear.theory`)
    ``tail_mass``, ``predicted_unrecovered_fraction``, ``predicted_loss_rate``,
    ``predicted_noisy_loss``, ``prob_head_only_row``, ``prob_at_most_one_tail``,
    ``expected_rows_with_at_most_one_tail``, ``expected_feature_counts``.

Example
-------
>>> from memcomp.linear import LongTailModel, sample_problem, MinNormFactorization, population_loss
>>> model = LongTailModel(n=1000, d=10000, s=5.0, alpha=2.0)
>>> prob = sample_problem(model, rng=0)
>>> fac = MinNormFactorization(prob.X)              # one factorisation per design
>>> beta0 = fac.solve(prob.targets(0.0))            # noiseless
>>> beta1 = fac.solve(prob.targets(0.05))           # same design, same noise draw, sigma = 0.05
>>> loss = population_loss(beta0, model.beta_star, model.p)
"""

from memcomp.linear.features import (
    LongTailModel,
    LongTailProblem,
    as_rng,
    check_design,
    default_beta_star,
    feature_probabilities,
    head_size,
    resolve_beta_star,
    sample_design,
    sample_problem,
    sample_targets,
    zipf_normalizer,
)
from memcomp.linear.metrics import (
    FeatureGroups,
    StructureStats,
    compositional_features,
    feature_counts,
    feature_errors,
    feature_groups,
    mean_ood_loss,
    monte_carlo_loss,
    OnceSeenLeverage,
    once_seen_leverage,
    ood_loss,
    ood_set_exists,
    population_loss,
    recovered_features,
    recovered_fraction,
    sample_test_set,
    structure_stats,
)
from memcomp.linear.solvers import (
    GDResult,
    MinNormFactorization,
    dense_min_norm,
    gradient_descent,
    min_norm_solution,
    ridge_path,
    ridge_solution,
    top_singular_value,
)
from memcomp.linear.theory import (
    expected_feature_counts,
    expected_rows_with_at_most_one_tail,
    predicted_loss_rate,
    predicted_noisy_loss,
    predicted_unrecovered_fraction,
    prob_at_most_one_tail,
    prob_head_only_row,
    tail_mass,
)

__all__ = [
    # features
    "LongTailModel",
    "LongTailProblem",
    "as_rng",
    "check_design",
    "default_beta_star",
    "feature_probabilities",
    "head_size",
    "resolve_beta_star",
    "sample_design",
    "sample_problem",
    "sample_targets",
    "zipf_normalizer",
    # solvers
    "GDResult",
    "MinNormFactorization",
    "dense_min_norm",
    "gradient_descent",
    "min_norm_solution",
    "ridge_path",
    "ridge_solution",
    "top_singular_value",
    # metrics
    "FeatureGroups",
    "OnceSeenLeverage",
    "once_seen_leverage",
    "StructureStats",
    "compositional_features",
    "feature_counts",
    "feature_errors",
    "feature_groups",
    "mean_ood_loss",
    "monte_carlo_loss",
    "ood_loss",
    "ood_set_exists",
    "population_loss",
    "recovered_features",
    "recovered_fraction",
    "sample_test_set",
    "structure_stats",
    # theory
    "expected_feature_counts",
    "expected_rows_with_at_most_one_tail",
    "predicted_loss_rate",
    "predicted_noisy_loss",
    "predicted_unrecovered_fraction",
    "prob_at_most_one_tail",
    "prob_head_only_row",
    "tail_mass",
]
