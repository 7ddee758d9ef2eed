"""Interactive exploration of the long-tail linear model.

Two layers, so that the book's stored pages show figures without a live kernel:

- :func:`plot_linear_explorer` is a pure plotting function: it runs a fresh simulation for the
  given parameters and returns a matplotlib Figure. The book shows it for a few fixed settings
  (what the HTML page and nbval see).
- :func:`linear_explorer` wraps it in ``ipywidgets.interact`` sliders for a live kernel
  (Jupyter, Binder, Colab).

The figure has two panels:

1. the per-feature error |beta_hat_i - beta*_i| against the feature index i (log axis), coloured
   by group: head, tail seen once, tail seen two or more times, unseen (whose error is just
   |beta*_i|, since the estimate stays 0);
2. the excess in-distribution and OOD (compositional) test losses against alpha, one fresh
   simulation per alpha, beside two reference curves: the paper's noiseless rate
   s (ln^2 d / (n s))^(1 - 1/alpha) with constant 1 (a shape, not a level) and the exact loss of
   an *ideal memorizer* that recovers every feature it has seen (:func:`ideal_memorizer_loss`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from memcomp.checks import check_array, check_float, check_int, check_seed

DEFAULT_ALPHAS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0)


def ideal_memorizer_loss(p: Any, beta_star: Any, n: int, sigma: float = 0.0, k: int = 0) -> float:
    """Exact expected excess loss of an estimator that recovers every feature it has seen.

    A feature never seen in n samples keeps beta_i = 0 and costs p_i beta*_i^2, and it is unseen
    with probability (1 - p_i)^n, so the noiseless part is sum_i p_i (1 - p_i)^n beta*_i^2.
    With noise, ``sigma^2 k / n`` is added: the paper's noisy rate for the head (k features
    estimated by least squares from about n rows). The noise floor sigma^2 itself is excluded.
    """
    p = check_array("p", p, ndim=1)
    beta_star = check_array("beta_star", beta_star, shape=p.shape)
    n = check_int("n", n, low=1)
    sigma = check_float("sigma", sigma, low=0.0)
    k = check_int("k", k, low=0, high=p.size)
    return float(np.sum(p * (1.0 - p) ** n * beta_star**2) + sigma**2 * k / n)


def _fit(X: Any, y: np.ndarray, lam: float) -> np.ndarray:
    from memcomp.linear import min_norm_solution, ridge_solution

    return min_norm_solution(X, y) if lam == 0.0 else ridge_solution(X, y, lam)


def simulate_linear(n: int, d: int, s: float, alpha: float, sigma: float, lam: float, seed: int, n_sets: int = 20) -> dict:
    """One fresh simulation: fit (min-norm if ``lam == 0`` else ridge) and measure it.

    Returns a dict with the model, the design, the fitted ``beta``, the feature ``groups``,
    the excess in-distribution loss ``id_loss`` and the excess OOD loss ``ood_loss`` (t = 2
    once-seen features in different rows, recovered by the noiseless min-norm solution,
    averaged over ``n_sets`` draws; nan when fewer than two such features exist).
    """
    from memcomp.linear import (
        LongTailModel,
        feature_groups,
        mean_ood_loss,
        min_norm_solution,
        ood_set_exists,
        population_loss,
        recovered_features,
        sample_problem,
    )

    lam = check_float("lam", lam, low=0.0)
    seed = check_seed("seed", seed)
    n_sets = check_int("n_sets", n_sets, low=1)
    model = LongTailModel(n=n, d=d, s=s, alpha=alpha, sigma=sigma)
    prob = sample_problem(model, rng=seed)
    beta = _fit(prob.X, prob.targets(sigma), lam)
    beta0 = min_norm_solution(prob.X, prob.targets(0.0))
    candidates = recovered_features(beta0, model.beta_star, prob.X, model.k)
    if ood_set_exists(prob.X, model.k, t=2, candidates=candidates):
        ood = mean_ood_loss(
            beta, model.beta_star, model.p, prob.X, model.k, rng=seed + 1, n_sets=n_sets, candidates=candidates
        )
    else:  # fewer than two recovered once-seen features in distinct rows: no OOD set to test
        ood = float("nan")
    return {
        "model": model,
        "X": prob.X,
        "beta": beta,
        "groups": feature_groups(prob.X, model.k),
        "id_loss": population_loss(beta, model.beta_star, model.p),
        "ood_loss": ood,
    }


def plot_linear_explorer(
    n: int = 1000,
    d: int = 10000,
    s: float = 5.0,
    alpha: float = 2.0,
    sigma: float = 0.0,
    lam: float = 0.0,
    seed: int = 0,
    alphas: Sequence[float] | None = None,
):
    """Figure of a fresh simulation at (n, d, s, alpha, sigma, lam, seed); see the module docstring.

    ``lam = 0`` fits the minimum-norm interpolator X^+ y, ``lam > 0`` ridge with penalty lam.
    ``alphas`` is the grid of the loss panel (default 1.0 to 3.0 in steps of 0.25).
    Returns the matplotlib Figure (two axes); it is not shown.
    """
    import matplotlib.pyplot as plt

    from memcomp.linear import LongTailModel, predicted_loss_rate

    n = check_int("n", n, low=10)
    d = check_int("d", d, low=10)
    s = check_float("s", s, low=0.0, high=float(d), low_open=True)
    alpha = check_float("alpha", alpha, low=0.5, high=6.0)
    sigma = check_float("sigma", sigma, low=0.0)
    lam = check_float("lam", lam, low=0.0)
    seed = check_seed("seed", seed)
    grid = check_array("alphas", DEFAULT_ALPHAS if alphas is None else alphas, ndim=1)
    if grid.size < 2 or np.any(grid < 1.0) or np.any(grid > 6.0):
        raise ValueError(f"alphas must hold at least two values, all in [1, 6]; got {grid.tolist()}")
    LongTailModel(n=n, d=d, s=s, alpha=alpha, sigma=sigma)  # validates the combination first

    run = simulate_linear(n, d, s, alpha, sigma, lam, seed)
    model, beta, groups = run["model"], run["beta"], run["groups"]
    err = np.abs(beta - model.beta_star)
    idx = np.arange(1, d + 1)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    styles = [
        ("tail_unseen", "unseen (estimate 0)", "0.8", 2),
        ("head", "head", "C0", 12),
        ("tail_more", "tail, seen 2+ times", "C2", 10),
        ("tail_once", "tail, seen once", "C3", 10),
    ]
    for name, label, color, size in styles:
        G = getattr(groups, name)
        ax1.scatter(idx[G], err[G], s=size, color=color, label=f"{label} ({G.size})")
    if sigma > 0:
        ax1.axhline(sigma, color="k", ls=":", lw=1, label=f"sigma = {sigma:g}")
    ax1.axvline(model.k + 0.5, color="k", lw=0.8, alpha=0.5)
    ax1.set_xscale("log")
    ax1.set_xlabel("feature index i")
    ax1.set_ylabel(r"$|\hat\beta_i - \beta^*_i|$")
    fit = "min-norm" if lam == 0 else f"ridge, lambda = {lam:g}"
    ax1.set_title(f"per-feature error (alpha = {alpha:g}, {fit}, k = {model.k})", fontsize=10)
    ax1.legend(fontsize=8, loc="center left", framealpha=0.9)

    id_sim, ood_sim, rate, ideal = [], [], [], []
    for a in grid:
        r = simulate_linear(n, d, s, float(a), sigma, lam, seed)
        id_sim.append(r["id_loss"])
        ood_sim.append(r["ood_loss"])
        m = r["model"]
        rate.append(predicted_loss_rate(n, d, s, float(a)))
        ideal.append(ideal_memorizer_loss(m.p, m.beta_star, n, sigma, m.k))
    ax2.plot(grid, id_sim, "o-", color="C0", label="in-distribution (simulation)")
    ax2.plot(grid, ood_sim, "s-", color="C3", label="OOD, t = 2 (simulation)")
    ax2.plot(grid, ideal, ":", color="k", label="ideal memorizer (exact)")
    ax2.plot(grid, rate, "--", color="0.5", label="paper's rate, constant 1 (shape)")
    ax2.axvline(alpha, color="k", lw=0.8, alpha=0.5)
    ax2.set_yscale("log")
    ax2.set_xlabel(r"power-law exponent $\alpha$")
    ax2.set_ylabel("excess test loss (noise floor excluded)")
    ax2.set_title(f"losses against alpha (n = {n}, d = {d}, s = {s:g}, sigma = {sigma:g})", fontsize=10)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def linear_explorer():
    """Live sliders over n, d, s, alpha, sigma and the ridge penalty (needs ipywidgets and a kernel).

    Tick ``ridge`` to fit ridge with penalty ``lam``; unticked, the model is the min-norm
    interpolator. Returns the ``interact`` widget.
    """
    try:
        import ipywidgets as w
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("linear_explorer needs ipywidgets: pip install 'memcomp[widgets]'") from exc
    import matplotlib.pyplot as plt

    def show(n, d, s, alpha, sigma, ridge, lam, seed):
        plot_linear_explorer(n=n, d=d, s=s, alpha=alpha, sigma=sigma, lam=lam if ridge else 0.0, seed=seed)
        plt.show()

    return w.interact(
        show,
        n=w.IntSlider(value=1000, min=200, max=3000, step=100, continuous_update=False),
        d=w.IntSlider(value=10000, min=1000, max=30000, step=1000, continuous_update=False),
        s=w.FloatSlider(value=5.0, min=1.0, max=10.0, step=0.5, continuous_update=False),
        alpha=w.FloatSlider(value=2.0, min=1.05, max=3.5, step=0.05, continuous_update=False),
        sigma=w.FloatSlider(value=0.0, min=0.0, max=0.3, step=0.01, continuous_update=False),
        ridge=w.Checkbox(value=False, description="ridge"),
        lam=w.FloatLogSlider(value=1e-3, base=10, min=-6, max=0, step=0.25, continuous_update=False),
        seed=w.IntText(value=0),
    )
