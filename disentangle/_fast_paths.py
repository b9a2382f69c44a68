"""Fast paths of the training step and of inference: bf16 autocast, channels-last, compile.

The estimators' ``fast_path`` parameter names the paths a fit uses (none by
default: the default step is bit for bit the reference one). Each path gives
the default step's losses to the tolerance of its arithmetic (float32
reordering for channels-last and compile, bf16's 8-bit mantissa for autocast),
not bit for bit, and only affects training: the fitted estimator's modules are
plain eager float32 modules in the default memory format again
(:meth:`FastPath.release`), so persistence is unchanged.

Their ``inference_fast_path`` parameter names the paths of ``transform`` and
``generate`` (and so of the metrics and of ModelCentrality's similarity, which
call them): :data:`INFERENCE_PATHS` only, none by default (the reference
forward pass). :meth:`FastPath.inference` puts the modules in the memory format
it needs, and they stay there until another format is asked for.

On a GPU the networks of the paper are small (a batch of 64 images of 64x64),
so an iteration is bound by kernel launches and host syncs, not by FLOPs: CUDA
graphs (``"cuda_graphs"``, ``torch.compile(mode="reduce-overhead")``) replay
each module's kernels in one launch. Several seeds side by side on one device
are separate processes (``benchmarks/reproduce.py --jobs``).
"""

import contextlib
from pathlib import Path

import torch

#: The paths, by name: what each does.
PATHS = {
    "bf16": "bfloat16 autocast of the forward and backward passes (float32 weights and Adam)",
    "channels_last": "convolution weights (and so activations) in channels-last memory format",
    "compile": "torch.compile of each module (default mode; on CUDA, no CUDA graphs)",
    "cuda_graphs": "torch.compile(mode='reduce-overhead') of each module: CUDA graphs (CUDA only)",
}


#: The paths that inference can take (a compile's start-up costs more than a forward pass saves).
INFERENCE_PATHS = ("bf16", "channels_last")

#: CPU flags (Linux ``/proc/cpuinfo``) of native bf16 dot products: AVX-512 BF16 and AMX.
NATIVE_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The instruction-set flags of this machine's CPU, as the kernel lists them.

    Returns
    -------
    flags : frozenset of str
        Empty where ``cpuinfo`` cannot be read (not Linux): no flag is assumed.
    """
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def native_bf16(device):
    """Whether ``device`` computes bf16 natively (emulated bf16 is slower than float32).

    A CUDA device: ``torch.cuda.is_bf16_supported()`` (Ampere and later). A CPU:
    one of :data:`NATIVE_BF16_CPU_FLAGS` in :func:`cpu_flags`. Other devices: False.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return bool(NATIVE_BF16_CPU_FLAGS & cpu_flags())
    return False


def auto_fast_path(device, images):
    """The paths ``fast_path="auto"`` takes on ``device``: the fastest it runs natively.

    ``"bf16"`` where :func:`native_bf16` holds; ``"channels_last"`` for image
    input (convolutional networks; a table's linear networks have no 4-d
    weights). Never ``"compile"`` or ``"cuda_graphs"``: their start-up takes
    minutes, more than they save on a short fit.

    Parameters
    ----------
    device : torch.device
    images : bool
        Whether the input is images (else a table).

    Returns
    -------
    names : tuple of str
        Sorted.
    """
    names = ("bf16",) if native_bf16(device) else ()
    return names + (("channels_last",) if images else ())


def parse_fast_path(text):
    """A command-line spelling of ``fast_path`` as the parameter's value.

    Parameters
    ----------
    text : str
        ``"none"`` (any case) for the reference step, ``"auto"``, or path
        names joined by ``+``, e.g. ``"bf16+channels_last"``.

    Returns
    -------
    fast_path : None, "auto" or tuple of str
        Unchecked: :func:`check_fast_path` validates the names at ``fit``.
    """
    if text.lower() == "none":
        return None
    return text if text == "auto" else tuple(text.split("+"))


def check_fast_path(fast_path, device, images=True, name="fast_path"):
    """The path names of a ``fast_path`` parameter value, validated for ``device``.

    Parameters
    ----------
    fast_path : None, "auto", str or sequence of str
        Names from :data:`PATHS`; None or an empty sequence for the default
        step; ``"auto"`` for :func:`auto_fast_path`.
    device : torch.device
    images : bool, default=True
        Whether the input is images: what ``"auto"`` chooses for.
    name : str, default="fast_path"
        The parameter's name, for the error messages.

    Returns
    -------
    names : tuple of str
        Sorted, without repeats.

    Raises
    ------
    ValueError
        An unknown name, ``"compile"`` together with ``"cuda_graphs"`` (one
        compile mode per module), or ``"cuda_graphs"`` on another device than CUDA.
    """
    if fast_path is None:
        return ()
    if isinstance(fast_path, str) and fast_path == "auto":
        return auto_fast_path(device, images)
    names = (fast_path,) if isinstance(fast_path, str) else tuple(fast_path)
    unknown = [name for name in names if name not in PATHS]
    if unknown or not all(isinstance(name, str) for name in names):
        raise ValueError(
            f"{name}={fast_path!r}: unknown path {unknown or names}; expected None, 'auto', "
            f"one of {sorted(PATHS)} or a list of them."
        )
    names = tuple(sorted(set(names)))
    if {"compile", "cuda_graphs"} <= set(names):
        raise ValueError(
            f"{name}: 'compile' and 'cuda_graphs' are two modes of torch.compile; choose one."
        )
    if "cuda_graphs" in names and torch.device(device).type != "cuda":
        raise ValueError(
            f"{name} 'cuda_graphs' needs a CUDA device; this fit runs on {device}. Use "
            "'compile' on a CPU."
        )
    return names


def check_inference_fast_path(fast_path, device, images=True):
    """The path names of an ``inference_fast_path`` value, validated for ``device``.

    As :func:`check_fast_path`, restricted to :data:`INFERENCE_PATHS`.

    Raises
    ------
    ValueError
        As :func:`check_fast_path`, and for ``"compile"`` or ``"cuda_graphs"``.
    """
    names = check_fast_path(fast_path, device, images, name="inference_fast_path")
    training_only = [name for name in names if name not in INFERENCE_PATHS]
    if training_only:
        raise ValueError(
            f"inference_fast_path={fast_path!r}: {training_only} only speed up training (a "
            "compile's start-up costs more than a forward pass saves); expected None, 'auto' "
            f"or some of {list(INFERENCE_PATHS)}."
        )
    return names


def compile_options(names):
    """Keyword arguments of ``torch.compile`` for the paths ``names``, or None: no compile.

    ``"cuda_graphs"`` is torch's ``mode="reduce-overhead"`` (CUDA graphs
    through CUDA-graph trees); ``"compile"`` is the default mode. Shapes are
    static (``dynamic=False``): every batch has ``batch_size`` samples.
    """
    if "cuda_graphs" in names:
        return {"mode": "reduce-overhead", "dynamic": False}
    if "compile" in names:
        return {"dynamic": False}
    return None


class FastPath:
    """The fast paths of one fit: prepares the modules, wraps each iteration, releases after.

    Parameters
    ----------
    names : tuple of str
        From :func:`check_fast_path`.
    device : torch.device
    """

    def __init__(self, names, device):
        self.names = tuple(names)
        self.device = torch.device(device)

    @staticmethod
    def modules(net):
        """The modules of a skorch ``net`` (``module_`` and the extra ones, by skorch name)."""
        return [getattr(net, name + "_") for name in net._modules]

    def prepare(self, net):
        """Use these paths in ``net``: convert and compile its modules in place.

        Call it after the modules' state is loaded. Parameters stay the same
        objects, so the optimisers keep them.
        """
        net.fast_path_ = self
        options = compile_options(self.names)
        for module in self.modules(net):
            if "channels_last" in self.names:
                module.to(memory_format=torch.channels_last)
            if options is not None:
                module.compile(**options)

    def release(self, net):
        """Undo :meth:`prepare`: eager modules, weights in the default (contiguous) format."""
        for module in self.modules(net):
            module._compiled_call_impl = None
            if "channels_last" in self.names:
                module.to(memory_format=torch.contiguous_format)

    @contextlib.contextmanager
    def inference(self, net):
        """The context of inference with ``net``: no gradients, these paths' format and autocast.

        The modules are converted to channels-last, or back to the default
        format, only when they are not in the one asked for already, and stay
        so after the context: alternating calls with and without
        ``"channels_last"`` copy the weights each time, calls alike do not.
        """
        memory_format = (torch.channels_last if "channels_last" in self.names
                         else torch.contiguous_format)
        for module in self.modules(net):
            module.to(memory_format=memory_format)
        with torch.inference_mode(), self.iteration():
            yield

    @contextlib.contextmanager
    def iteration(self):
        """The context of one training iteration (autocast; a new CUDA-graph step)."""
        if "cuda_graphs" in self.names:
            # Outputs of the previous iteration's graphs may be overwritten from here on.
            torch.compiler.cudagraph_mark_step_begin()
        if "bf16" in self.names:
            with torch.autocast(self.device.type, dtype=torch.bfloat16):
                yield
        else:
            yield
