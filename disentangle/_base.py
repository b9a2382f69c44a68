"""What every generative estimator shares: the :class:`GenerativeEstimator` base class.

Fitting through the skorch engine of :mod:`disentangle._engine` (resuming
from :mod:`disentangle._checkpoint`), and the generative interface
(``transform``, ``sample_latent``, ``generate``, ``sample``,
``get_feature_names_out``). Pickling is :mod:`disentangle._persistence`'s.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from disentangle import __version__
from disentangle._budget import (
    PROBE_FRACTION,
    Budget,
    PhaseClock,
    Replanner,
    describe,
    measure_phases,
    plan_length,
)
from disentangle._checkpoint import (
    TrainingCheckpoint,
    checkpoint_path,
    fit_record,
    resume_snapshot,
)
from disentangle._engine import (
    BatchIterator,
    FiniteLosses,
    GracefulInterrupt,
    TrainingWarning,
    resolve_device,
    seed_from,
    to_float,
    to_tensor,
    training_callbacks,
)
from disentangle._fast_paths import FastPath, check_fast_path, check_inference_fast_path
from disentangle._persistence import PersistenceMixin
from disentangle._validation import (
    CALLBACKS,
    DIRECTORY,
    Number,
    check_latent_matrix,
    open_npy,
    transform_scale,
    uint8_scale,
    validate_input,
    warn_far_from_prior,
)
from disentangle._warnings import user_frame
from disentangle.networks import is_table

#: Batch size used by ``transform`` and ``generate`` (inference only). At 128 64x64 images the
#: largest activation of the paper's networks (32 channels at 32x32) is 16 MiB, under glibc's
#: 32 MiB limit for reusing freed blocks; at 512 it would be 64 MiB, mapped afresh and
#: page-faulted in each batch, most of the time then going to the kernel (see
#: ``_allocator.keep_freed_memory`` and the user guide's performance page).
INFERENCE_BATCH_SIZE = 128
#: Prior draws that ``generate`` compares its latents with.
_PRIOR_DRAWS = 1000


class GenerativeEstimator(PersistenceMixin, TransformerMixin, BaseEstimator):
    """Base class of the generative estimators (``InfoGANCR``, ``VAE``).

    Subclasses provide the prior (:meth:`_draw_prior`), the latent sizes
    (:meth:`_latent_sizes`), the engine (:meth:`_make_net`, with its extra
    callbacks and loss names), and ``_encode_batch`` / ``_decode_batch``.
    ``fit`` validates the input, resumes or starts the engine, trains it for
    ``max_iter`` iterations in all and sets ``net_`` (a fitted skorch net
    whose ``module_`` is the generator/decoder).
    """

    _parameter_constraints = {
        "batch_size": [Number(Integral, 1, None, closed="left")],
        "max_iter": [Number(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [CALLBACKS, None],
        "image_shape": [tuple, list, None],
        "checkpoint_dir": [DIRECTORY, None],
        "checkpoint_every": [Number(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "max_time": [Number(Real, 0, None, closed="neither"), None],
        "fast_path": [str, list, tuple, None],
        "inference_fast_path": [str, list, tuple, None],
    }

    #: Parameters that may change between an interrupted fit and its resumption.
    _resumable_params = ("max_iter", "device", "random_state", "verbose", "callbacks",
                         "checkpoint_dir", "checkpoint_every", "warm_start", "max_time",
                         "fast_path", "inference_fast_path")


    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Seeded fits are bit-identical on CPU; CUDA kernels are not deterministic.
        try:
            tags.non_deterministic = resolve_device(self.device).type != "cpu"
        except (RuntimeError, TypeError, ValueError):  # an invalid or absent device: fit says so
            tags.non_deterministic = True
        tags.input_tags.three_d_array = True  # images (n, H, W); (n, C, H, W) too
        tags.transformer_tags.preserves_dtype = ["float32"]  # codes are always float32
        return tags

    @property
    def history_(self):
        """skorch History: losses per iteration (batch) and per pass."""
        return self.net_.history

    # --- fit ---

    def _check_params(self):
        """Checks across parameters, beyond ``_parameter_constraints`` (subclasses)."""

    def _write_paths(self):
        """The paths a fit writes to, by parameter: ``checkpoint_dir`` when set.

        :class:`~disentangle.ModelCentralitySelector` rejects candidates that
        would share one (:func:`disentangle.selection.write_paths`).
        """
        return {} if self.checkpoint_dir is None else {"checkpoint_dir": self.checkpoint_dir}

    #: Parameters naming a network factory (None: the built-in network).
    _network_params = ()

    def _user_networks(self):
        """True when the user gave every network: images of any size are then accepted."""
        return bool(self._network_params) and all(
            getattr(self, name) is not None for name in self._network_params)

    def _min_samples(self):
        """Fewest training samples the networks can train on."""
        return 1

    def _fit(self, X):
        """Validate, resume or start, train; return self. See the subclasses' ``fit``.

        If it raises, the estimator is left as it was before the call.
        """
        previous = self.__dict__.copy()
        try:
            return self._fit_or_raise(X)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise

    def _fit_or_raise(self, X):
        budget = Budget(self.max_time)
        self._check_params()
        X = self._validate_training_data(X)
        fast_path = check_fast_path(self.fast_path, self.device_,
                                    images=self.image_shape_ is not None)
        check_inference_fast_path(self.inference_fast_path, self.device_,
                                  images=self.image_shape_ is not None)
        record = fit_record(self, X)
        snapshot = resume_snapshot(self, record)
        record["seeds"] = snapshot["seeds"] if snapshot else list(self._fit_seeds())
        record["max_iter"], replanner = self._schedule_length(X, record, snapshot, fast_path,
                                                             budget)
        self.max_iter_ = record["max_iter"]
        self._warn_about_moved_schedule(snapshot)
        interrupt = GracefulInterrupt()
        iterator_state = snapshot["net"]["iterator"] if snapshot else None
        engine = self._engine_params(len(X), record, iterator_state, interrupt)
        if replanner is not None:  # passes for the longest schedule; the replanner ends the fit
            engine["max_epochs"] = BatchIterator.n_passes(len(X), self.batch_size, self.max_iter)
            engine["callbacks"].insert(-1, ("replanner", replanner))
        net = self._make_net(len(X), record["seeds"][0], engine).initialize()
        if snapshot:
            try:
                net.load_training_state(snapshot["net"])
            except (KeyError, RuntimeError, TypeError, ValueError) as error:
                raise ValueError(
                    f"The training state saved with disentangle {snapshot['version']} cannot be "
                    f"continued by disentangle {__version__} ({type(error).__name__}: {error}); "
                    "fit afresh (warm_start=False)."
                ) from error
        FastPath(fast_path, self.device_).prepare(net)
        try:
            with interrupt:
                net.partial_fit(X)
        finally:
            net.release_data()
            net.fast_path_.release(net)
        self._set_fitted(net, record)
        self.fast_path_ = fast_path
        self.schedule_plans_ = [] if replanner is None else replanner.plans_
        return self

    def _phase_starts(self, max_iter):
        """First iteration of each phase of the schedule whose iterations cost alike."""
        return [0]

    def _schedule_points(self, max_iter):
        """The iterations where a ``max_iter``-iteration fit's schedule changes, by name
        (subclasses whose schedule points may be fractions of ``max_iter``)."""
        return {}

    def _schedule_config(self, max_iter):
        """The engine's ``config`` entries that depend on the schedule length (subclasses)."""
        return {}

    def _retarget(self, net, record, n_iter):
        """Continue the fit in progress to ``n_iter`` iterations in all (a ``max_time`` re-plan)."""
        self.max_iter_ = record["max_iter"] = n_iter
        net.set_length(n_iter, self._schedule_config(n_iter))

    def _warn_about_moved_schedule(self, snapshot):
        """Warn when continuing to another ``max_iter_`` moves a schedule point across the
        iterations already trained: the model then differs from a straight fit."""
        if not snapshot or "max_iter" not in snapshot:
            return
        done, before = snapshot["net"]["counters"]["n_iter"], snapshot["max_iter"]
        old, new = self._schedule_points(before), self._schedule_points(self.max_iter_)
        moved = [f"{name} from iteration {old[name]} to {new[name]}" for name in old
                 if old[name] != new[name] and min(old[name], new[name]) < done]
        if moved:
            warnings.warn(
                f"warm_start continues a fit of max_iter={before} ({done} iterations trained) "
                f"to max_iter={self.max_iter_}, which moves {', '.join(moved)} (a fraction of "
                "max_iter follows it) across iterations already trained: the model will differ "
                f"from a straight fit of {self.max_iter_} iterations. Give the schedule in "
                "iterations to keep it where it was.", UserWarning, **user_frame())

    def _schedule_length(self, X, record, snapshot, fast_path, budget):
        """``max_iter_``: ``max_iter``, or the length that fits ``max_time`` (see ``_budget``);
        and the :class:`~disentangle._budget.Replanner` that adjusts it during the fit (None
        without a budget).

        A ``warm_start`` with ``max_time`` keeps the length of the fit it continues.
        """
        if self.max_time is None:
            return self.max_iter, None
        if snapshot is not None and "max_iter" in snapshot:
            return snapshot["max_iter"], None
        self.max_iter_ = self.max_iter  # the throwaway engine's schedule
        interrupt = GracefulInterrupt(reraise=True)  # Ctrl-C ends the fit before it starts
        engine = self._engine_params(len(X), record, None, interrupt)
        clock = PhaseClock(PROBE_FRACTION * self.max_time)
        # The fit's own callbacks, silent, without checkpoints or the user's.
        engine.update(callbacks=[*self._default_callbacks(len(X), 0), ("phase_clock", clock),
                                 ("graceful_interrupt", interrupt)],
                      verbose=0)
        probe = self._make_net(len(X), record["seeds"][0], engine).initialize()
        FastPath(fast_path, self.device_).prepare(probe)
        with interrupt:
            n_iter, costs = plan_length(budget, self.max_iter, self._phase_starts,
                                        lambda starts: measure_phases(probe, X, starts, clock))
        if self.verbose:
            print(f"max_time={self.max_time:g} s: {n_iter:,} iterations (measured "
                  f"{describe(costs)} over the phases of the schedule)", flush=True)
        return n_iter, Replanner(
            budget, n_iter, self.max_iter, self._phase_starts, self._schedule_points, costs,
            lambda net, length: self._retarget(net, record, length), self.verbose)

    def _validate_training_data(self, X):
        """Validate ``X`` and set the input-dependent fitted attributes; return the array."""
        X = validate_input(self, X, reset=True, min_samples=self._min_samples())
        if self.batch_size > len(X):
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {len(X)} training samples: "
                f"every iteration uses all {len(X)} of them.", UserWarning, **user_frame())
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        self.image_shape_ = None if is_table(self.input_shape_) else self.input_shape_
        self.input_scale_ = 1.0 if self.image_shape_ is None else uint8_scale(X)
        self.device_ = resolve_device(self.device)
        return X

    def _fit_seeds(self):
        """Two 31-bit seeds from ``random_state``: the net's (weights, noise) and the batches'."""
        rng = np.random.RandomState(seed_from(self.random_state))
        return seed_from(rng), seed_from(rng)

    def _engine_params(self, n_samples, record, iterator_state, interrupt):
        """Keyword arguments of the skorch engine shared by all estimators.

        ``max_iter`` batches in all drawn by :class:`BatchIterator` (no
        validation split), the estimator's ``batch_size``, ``device_`` and
        ``verbose``. Callbacks: the subclass's (:meth:`_extra_callbacks`),
        :class:`FiniteLosses`, :func:`training_callbacks`, a :class:`TrainingCheckpoint` when
        ``checkpoint_dir`` is set, the user's ``callbacks`` (a user callback
        named like a default one replaces it; ``(name, None)`` removes it),
        and ``interrupt`` last.

        Parameters
        ----------
        n_samples : int
        record : dict
            The fit's record, with its seeds.
        iterator_state : dict or None
            Where the batches resume.
        interrupt : GracefulInterrupt
        """
        defaults = self._default_callbacks(n_samples, self.verbose)
        if self.checkpoint_dir is not None:
            checkpoint = TrainingCheckpoint(checkpoint_path(self.checkpoint_dir),
                                            self.checkpoint_every, record)
            defaults.append(("checkpoint", checkpoint))
        user = list(self.callbacks or [])
        named = {item[0] for item in user if isinstance(item, tuple)}
        callbacks = [item for item in defaults if item[0] not in named]
        return {
            "batch_size": self.batch_size,
            "max_epochs": BatchIterator.n_passes(n_samples, self.batch_size, self.max_iter_,
                                                 iterator_state),
            "train_split": None,
            "iterator_train": BatchIterator,
            "iterator_train__n_iter": self.max_iter_,
            "iterator_train__seed": record["seeds"][1],
            "iterator_train__dtype": np.float32 if self.image_shape_ is None else None,
            "iterator_train__pin_memory": self.device_.type == "cuda",
            "callbacks": [*callbacks, *user, ("graceful_interrupt", interrupt)],
            "device": self.device_,
            "verbose": self.verbose,
        }

    def _default_callbacks(self, n_samples, verbose):
        """The subclass's callbacks, :class:`FiniteLosses` and :func:`training_callbacks`."""
        return [
            *self._extra_callbacks(),
            ("finite_losses", FiniteLosses()),
            *training_callbacks(verbose,
                                BatchIterator.batches_per_pass(n_samples, self.batch_size),
                                self._loss_names(), self.max_iter_),
        ]

    def _extra_callbacks(self):
        """The subclass's own callbacks, as (name, callback) pairs."""
        return []

    def _set_fitted(self, net, record):
        self.net_ = net
        self._record = record
        self.n_codes_, self.n_latent_ = self._latent_sizes()
        self.n_iter_ = net.n_iter_
        if net.n_iter_ < self.max_iter_:
            path = checkpoint_path(self.checkpoint_dir)
            where = "" if path is None else f" (or from {path})"
            inside = (f" inside iteration {net.n_iter_ + 1}, whose changes stay" if net.step_open_
                      else "")
            warnings.warn(
                f"Training stopped at iteration {net.n_iter_} of {self.max_iter_} (interrupted"
                f"{inside}). The estimator is usable; fit again with warm_start=True to "
                f"continue{where}.",
                TrainingWarning, **user_frame(),
            )

    # --- inference ---

    def _validate(self, X):
        """Validate ``X`` for ``transform``; return the array and its uint8 pixel scale."""
        check_is_fitted(self, "net_")
        X = open_npy(X)
        was_bool = getattr(X, "dtype", None) == np.bool_
        X = validate_input(self, X, reset=False)
        if self.image_shape_ is None or was_bool:
            return X, 1.0
        return X, transform_scale(X, self.input_scale_, type(self).__name__)

    def transform(self, X):
        """Encode samples to their latent codes.

        Parameters
        ----------
        X : array-like of shape (n, d), (n, H, W), (n, C, H, W) or (n, C*H*W)
            The kind of input seen at fit: a table with as many features, or
            images of the same shape (bool, uint8 on the scale seen at fit,
            or float in [0, 1]; also flattened).

        Returns
        -------
        codes : ndarray of shape (n, n_codes_), dtype float32
            Deterministic code estimates (InfoGAN-CR: Q's means; VAE: posterior means).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            Input of another shape, number of features, channel count or
            pixel scale than at fit, or invalid values (see :func:`validate_input`).
        """
        X, scale = self._validate(X)
        codes = self._to_batches(
            lambda batch: self._encode_batch(to_float(batch, self.device_, scale)), X)
        return codes.astype(np.float32, copy=False)

    def sample_latent(self, n_samples, random_state=None):
        """Draw latent vectors from the prior.

        Parameters
        ----------
        n_samples : int
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        latents : ndarray of shape (n_samples, n_latent_), dtype float32
            The first ``n_codes_`` columns are the codes ``c``, the rest the noise ``z``.

        Raises
        ------
        ValueError
            If ``n_samples`` is not an integer >= 0.
        """
        check_is_fitted(self, "net_")
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 0:
            raise ValueError(f"n_samples must be an integer >= 0; got {n_samples!r}.")
        return self._draw_prior(check_random_state(random_state), n_samples).astype(np.float32)

    def generate(self, latents):
        """Render latent vectors with the generator (decoder), in batches.

        Parameters
        ----------
        latents : array-like of shape (n, n_latent_)

        Returns
        -------
        samples : ndarray of shape (n, *input_shape_), dtype float32
            Images (n, C, H, W) with values in [0, 1] for a model fitted on
            images (also when fitted on flattened images); rows (n, d) of
            unbounded features for a model fitted on a table.

        Raises
        ------
        ValueError
            If ``latents`` is not 2-D with ``n_latent_`` columns or is not finite.

        Warns
        -----
        UserWarning
            Latents farther from 0 than twice the largest of 1,000 prior draws
            (e.g. beyond ±2 for a U(-1, 1) prior): the generator never saw them.
        """
        check_is_fitted(self, "net_")
        latents = check_latent_matrix(latents, self.n_latent_, "latents")
        warn_far_from_prior(latents, self._draw_prior(np.random.RandomState(0), _PRIOR_DRAWS))
        if len(latents) == 0:
            return np.empty((0, *self.input_shape_), np.float32)
        return self._to_batches(lambda batch: self._decode_batch(batch.to(self.device_)), latents)

    def _to_batches(self, fn, array):
        """``fn`` on ``array`` in chunks of INFERENCE_BATCH_SIZE, as float32, through the
        ``inference_fast_path``."""
        paths = check_inference_fast_path(self.inference_fast_path, self.device_,
                                          images=self.image_shape_ is not None)
        with FastPath(paths, self.device_).inference(self.net_):
            out = [fn(to_tensor(array[i : i + INFERENCE_BATCH_SIZE])).float().cpu()
                   for i in range(0, len(array), INFERENCE_BATCH_SIZE)]
        return torch.cat(out).numpy()

    def _decode_batch(self, latents):
        return self.net_.module_.eval()(latents)

    def sample(self, n_samples, random_state=None):
        """Generate samples from latents drawn from the prior.

        Parameters
        ----------
        n_samples, random_state
            As :meth:`sample_latent`.

        Returns
        -------
        samples : ndarray of shape (n_samples, *input_shape_), dtype float32
            As :meth:`generate`.
        """
        return self.generate(self.sample_latent(n_samples, random_state))

    def get_feature_names_out(self, input_features=None):
        """Names of the code columns: ``code0``, ``code1``, ...

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against the input seen at fit (``feature_names_in_`` or
            ``n_features_in_``); the output names do not depend on it.

        Returns
        -------
        names : ndarray of str objects, shape (n_codes_,)

        Raises
        ------
        ValueError
            ``input_features`` that differ from the features seen at fit.
        """
        check_is_fitted(self, "net_")
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            seen = getattr(self, "feature_names_in_", None)
            if seen is not None and not np.array_equal(seen, input_features):
                raise ValueError("input_features is not equal to feature_names_in_")
            if len(input_features) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(input_features)}"
                )
        return np.asarray([f"code{k}" for k in range(self.n_codes_)], dtype=object)
