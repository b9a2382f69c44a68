"""Pickling of fitted generative estimators: :class:`PersistenceMixin`.

A fitted estimator pickles (``pickle``, ``joblib``) with its package version
and a checksum of its skorch net; one saved by another version loads with an
:class:`~disentangle.exceptions.InconsistentVersionWarning`, and raises only
where its state cannot be read here. A model fitted on CUDA loads on a
CPU-only machine (with a warning). Checkpoints of a fit in progress are
:mod:`disentangle._checkpoint`'s.
"""

import hashlib
import inspect
import pickle
import warnings

import torch
from skorch.exceptions import DeviceWarning

from disentangle import __version__
from disentangle._warnings import user_frame
from disentangle.exceptions import InconsistentVersionWarning


class PersistenceMixin:
    """Pickling of a fitted generative estimator (the net as a checksummed payload)."""

    #: What ``transform``, ``generate`` and ``fit(warm_start=True)`` use of a fitted estimator
    #: besides ``net_``: a pickle without one of them cannot be used by this version.
    _fitted_attributes = ("n_features_in_", "input_shape_", "image_shape_", "input_scale_",
                          "device_", "n_codes_", "n_latent_", "n_iter_", "_record")

    def __sizeof__(self):
        """Bytes held, the fitted networks' and optimisers' tensors included.

        Dask (and joblib's Dask backend, which scatters large task arguments
        once instead of copying them into every task) reads it through
        ``sys.getsizeof``.
        """
        size = object.__sizeof__(self)
        net = self.__dict__.get("net_")
        if net is not None:
            state = net.training_state()
            tensors = [*_tensors(state["modules"]), *_tensors(state["optimizers"])]
            size += sum(t.nelement() * t.element_size() for t in tensors)
        return size

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ gives the live __dict__
        state["_disentangle_version"] = __version__
        if "net_" in state:
            payload = pickle.dumps(state.pop("net_"), protocol=pickle.HIGHEST_PROTOCOL)
            state["_net_payload"] = payload
            state["_net_sha256"] = hashlib.sha256(payload).hexdigest()
        return state

    def __setstate__(self, state):
        """Restore a pickled estimator, also one saved by another version of the package.

        Raises
        ------
        ValueError
            The file is corrupted (the network's checksum), or this version
            cannot read the saved state: its network does not unpickle here,
            or a fitted attribute this version needs is missing.

        Warns
        -----
        InconsistentVersionWarning
            Saved by another version (or one that did not record it).
        """
        name = type(self).__name__
        version = state.pop("_disentangle_version", None)
        if version != __version__:
            warnings.warn(InconsistentVersionWarning(name, version, __version__), **user_frame())
        payload = state.pop("_net_payload", None)
        if payload is not None:
            if hashlib.sha256(payload).hexdigest() != state.pop("_net_sha256", None):
                raise ValueError(
                    f"This {name} file is corrupted: its network checksum does not match."
                )
            missing = [a for a in self._fitted_attributes if a not in state]
            if missing:
                raise _unreadable(name, version, f"it has no {', '.join(missing)}")
            state["net_"], state["device_"] = _load_net(payload, state["device_"], name, version)
        # Hyper-parameters added since the saving version take their defaults (get_params,
        # clone and repr need every one).
        for param, default in self._get_param_defaults().items():
            state.setdefault(param, default)
        super().__setstate__(state)

    @classmethod
    def _get_param_defaults(cls):
        return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}


def _tensors(tree):
    """The tensors in nested dicts, lists and tuples (state dicts)."""
    if isinstance(tree, torch.Tensor):
        return [tree]
    if isinstance(tree, dict):
        tree = list(tree.values())
    if isinstance(tree, (list, tuple)):
        return [tensor for item in tree for tensor in _tensors(item)]
    return []


def _unreadable(name, version, reason):
    """The error for saved state that this version of the package cannot read."""
    return ValueError(
        f"This {name} was saved with disentangle {version or '(unknown version)'} and cannot "
        f"be read by disentangle {__version__}: {reason}. Load it with the version that saved "
        "it, or fit it again."
    )


def _load_net(payload, device, name, version):
    """Unpickle a net, on CPU when the device it was fitted on is missing (with a warning).

    Raises
    ------
    ValueError
        The net does not unpickle here (classes or modules renamed or removed
        since the version that saved it, or a torch or skorch that cannot read it).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeviceWarning)
        try:
            net = pickle.loads(payload)
        except Exception as error:
            raise _unreadable(name, version, f"its network does not unpickle here "
                                             f"({type(error).__name__}: {error})") from error
    loaded_on = torch.device(net.device)
    if loaded_on != torch.device(device):
        warnings.warn(
            f"This {name} was fitted on {device}, which is not available here; it is loaded on "
            f"{loaded_on} (device_ updated). Continuing its training (warm_start) will not "
            "reproduce a run on the original device.",
            DeviceWarning, **user_frame(),
        )
    return net, loaded_on
