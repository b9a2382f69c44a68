"""The candidates of a search: checked before any fit, fitted and health-checked, and the
failures and short fits reported (as scikit-learn's ``GridSearchCV`` reports failed fits).
"""

import os
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning

from disentangle._engine import interrupts_propagate
from disentangle._warnings import user_frame
from disentangle.metrics._representation import rows_without_names

# Latents rendered and encoded after each fit to detect a diverged model.
_N_HEALTH_CHECK = 16


def check_candidates(estimator, candidates, source):
    """At least two candidates, which never share a path that a fit writes to.

    Raises
    ------
    ValueError

    Warns
    -----
    UserWarning
        Candidates with identical parameters, naming them.
    """
    if isinstance(estimator, type):
        raise ValueError(
            f"estimator must be an estimator instance, e.g. {estimator.__name__}(); got the class "
            f"{estimator.__name__} itself.")
    if len(candidates) < 2:
        raise ValueError(
            f"ModelCentralitySelector needs at least 2 candidates to compare; {source} gives "
            f"{len(candidates)}.")
    seen = {}
    for index, params in enumerate(candidates):
        candidate = clone(estimator).set_params(**clone(params, safe=False))
        for name, value in write_paths(candidate).items():
            key = os.path.realpath(os.path.expanduser(os.fspath(value)))
            if key in seen and seen[key][0] != index:
                other, other_name, other_value = seen[key]
                raise ValueError(
                    f"Candidates {other} and {index} share {name}={value!r} (candidate "
                    f"{other}: {other_name}={other_value!r}; both are {key!r}); parallel "
                    "candidates must not share a checkpoint or work path: give each its own "
                    f"value in {source}.")
            seen[key] = (index, name, value)
    groups = {}
    for index, params in enumerate(candidates):
        groups.setdefault(repr(sorted(params.items())), []).append(index)
    for indices in (g for g in groups.values() if len(g) > 1):
        warnings.warn(
            f"{source} gives candidates {indices} the same parameters "
            f"{candidates[indices[0]]}: each is fitted, and with a fixed random_state they are "
            "the same model, which pulls the centrality towards it.", UserWarning, **user_frame())


def write_paths(estimator):
    """Every path a fit of ``estimator`` writes to, by parameter name (nested ones with ``__``).

    Each estimator declares its own through a ``_write_paths()`` method
    returning ``{parameter name: path}`` for the paths it will write (e.g.
    :class:`~disentangle.InfoGANCR`'s ``checkpoint_dir`` when set); the
    estimators in its parameters (a ``Pipeline``'s steps) are asked too.

    Returns
    -------
    paths : dict of str to str or path-like
    """
    owners = {"": estimator}
    owners.update({f"{name}__": value for name, value in estimator.get_params(deep=True).items()
                   if hasattr(value, "get_params") and not isinstance(value, type)})
    return {prefix + name: path for prefix, owner in owners.items()
            if callable(getattr(owner, "_write_paths", None))
            for name, path in owner._write_paths().items()}


# --- tasks (run by joblib workers) ------------------------------------------------------------


def fit_and_check(estimator, params, X):
    """Fit a clone with ``params`` and check that it generates and encodes finite values.

    A Ctrl-C stops the fit at the end of an iteration and raises ``KeyboardInterrupt``
    (:func:`~disentangle._engine.interrupts_propagate`), where a lone fit would return.
    """
    with interrupts_propagate():
        model = clone(estimator).set_params(**clone(params, safe=False)).fit(X)
    _check_generative(model)
    return model


def _check_generative(model, n_samples=_N_HEALTH_CHECK):
    """Raise if a fitted generative model has diverged.

    Renders ``n_samples`` prior latents (seed 0) and encodes the images.

    Parameters
    ----------
    model : fitted generative estimator
    n_samples : int, default=16

    Raises
    ------
    ValueError
        If the images or codes contain NaN or infinite values, or the codes are
        not of shape ``(n_samples, n_codes_)``.
    """
    images = np.asarray(model.generate(model.sample_latent(n_samples, 0)))
    if not np.all(np.isfinite(images)):
        raise ValueError("diverged model: generate returned NaN or infinite values.")
    with rows_without_names(model):
        codes = np.asarray(model.transform(images))
    if not np.all(np.isfinite(codes)):
        raise ValueError("diverged model: transform returned NaN or infinite codes.")
    if codes.shape != (n_samples, model.n_codes_):
        raise ValueError(
            f"transform returned codes of shape {codes.shape}; expected "
            f"({n_samples}, n_codes_={model.n_codes_}).")


# --- centrality and results ---------------------------------------------------------------------


def warn_or_raise_about_failures(candidates, errors, error_score):
    """One ``FitFailedWarning`` for all the failed candidates, as GridSearchCV gives.

    Raises
    ------
    ValueError
        Every candidate failed.
    """
    failed = [i for i, error in enumerate(errors) if error is not None]
    if not failed:
        return
    details = "\n".join(f"{'-' * 80}\nCandidate {i} {candidates[i]}: {errors[i]}"
                        for i in failed)
    if len(failed) == len(candidates):
        raise ValueError(
            f"All {len(candidates)} candidates failed; the first error: {errors[0]}\n"
            "You can debug it by setting error_score='raise'.\n\nBelow are more details "
            f"about the failures:\n{details}")
    warnings.warn(
        f"\n{len(failed)} candidates failed out of a total of {len(candidates)}.\nTheir "
        f"centrality is set to error_score={error_score} and they rank last.\nIf these "
        "failures are not expected, you can debug them by setting error_score='raise'.\n\n"
        f"Below are more details about the failures:\n{details}",
        FitFailedWarning, **user_frame())


def _iterations(models):
    """Iterations each model trained and was asked for (``n_iter_``, ``max_iter_``), float
    arrays with NaN where a model is None or does not say."""
    def attribute(name):
        return np.array([np.nan if model is None else float(getattr(model, name, np.nan))
                         for model in models])

    return attribute("n_iter_"), attribute("max_iter_")


def warn_or_raise_about_incomplete(incomplete, eligible, n_iter, asked, allowed):
    """One ``UserWarning`` naming the candidates that trained fewer iterations than asked.

    Raises
    ------
    ValueError
        No candidate is eligible as medoid: every one that did not fail is incomplete.
    """
    if not incomplete.any():
        return
    listing = ", ".join(f"{i} ({n_iter[i]:.0f} of {asked[i]:.0f})"
                        for i in np.flatnonzero(incomplete))
    advice = ("fit again with warm_start=True and a checkpoint_dir per candidate to finish "
              "them")
    if not eligible.any():
        raise ValueError(
            f"Every candidate that did not fail trained fewer iterations than asked "
            f"(candidate, iterations: {listing}); {advice}, or set allow_incomplete=True to "
            "select among them.")
    status = ("they may be the medoid (allow_incomplete=True)" if allowed else
              "they are compared with the others but rank after the complete ones and are "
              f"not eligible as medoid (allow_incomplete=True makes them so); {advice}")
    warnings.warn(f"Candidates trained fewer iterations than asked (candidate, iterations: "
                  f"{listing}): {status}.", UserWarning, **user_frame())


def eligibility(models, errors, allow_incomplete):
    """``(n_iter, asked, incomplete, eligible)``: iterations trained and asked, and which
    candidates trained fewer than asked and which may be the medoid."""
    failed = np.array([e is not None for e in errors])
    n_iter, asked = _iterations(models)
    incomplete = ~failed & (n_iter < asked)
    return n_iter, asked, incomplete, ~failed & (~incomplete | allow_incomplete)
