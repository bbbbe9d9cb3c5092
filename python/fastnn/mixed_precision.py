"""Keras-style dtype policies: ``"float32"`` (the default) and ``"mixed_bfloat16"``.

Under ``mixed_bfloat16`` the Dense layers' matrix products (forward, input gradient and weight
gradient) take bfloat16 inputs, rounded to nearest even from the float32 values, and accumulate in
float32; weights, gradients, optimizer state, activations and the loss stay float32 (Keras's
variable dtype float32, compute dtype bfloat16). The products run on the CPU's AMX-BF16 tiles;
on a CPU, build or OS without them, choosing the policy raises RuntimeError saying why (there is
no emulated path: it would be slower than float32).

    fastnn.mixed_precision.set_global_policy("mixed_bfloat16")   # models compiled from now on
    model.compile(optimizer, loss, dtype_policy="mixed_bfloat16") # or one model

A model's policy is the one given to compile, else the global policy at compile time. Results are
deterministic and identical for any thread count, as in float32.
"""
from __future__ import annotations

__all__ = ["DTypePolicy", "Policy", "set_global_policy", "global_policy", "bfloat16_supported"]

_NAMES = ("float32", "mixed_bfloat16")


class DTypePolicy:
    """A dtype policy: ``name`` is ``"float32"`` or ``"mixed_bfloat16"``.

    Policies compare equal by name. Unlike Keras, "mixed_float16", "bfloat16" and the other Keras
    policy names are not offered.

    Parameters
    ----------
    name : str or DTypePolicy, default "float32"
        "float32" or "mixed_bfloat16" (another name raises ValueError, another type TypeError); a
        DTypePolicy is copied. Making a policy does not check the CPU: using it does.
    """

    def __init__(self, name="float32"):
        if isinstance(name, DTypePolicy):
            name = name.name
        if not isinstance(name, str):
            raise TypeError(f"dtype policy: expected a name such as 'mixed_bfloat16', got "
                            f"{type(name).__name__}")
        if name not in _NAMES:
            raise ValueError(f"dtype policy: expected one of {', '.join(map(repr, _NAMES))}, got "
                             f"{name!r}")
        self._name = name

    @property
    def name(self) -> str:
        """The policy's name, "float32" or "mixed_bfloat16"."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype the Dense layers' matrix products take: "bfloat16" under mixed_bfloat16, else "float32"."""
        return "bfloat16" if self._name == "mixed_bfloat16" else "float32"

    @property
    def variable_dtype(self) -> str:
        """The dtype of the weights, gradients and optimizer state: always "float32"."""
        return "float32"

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


Policy = DTypePolicy  # the older Keras name

_global = DTypePolicy("float32")


def bfloat16_supported() -> bool:
    """Whether the mixed_bfloat16 policy can run on this machine.

    Returns
    -------
    bool
        True where the CPU has AMX-BF16 tiles, the build has the kernels and the OS grants their use.
    """
    from fastnn import _core

    return bool(_core.bf16_available())


def _check_supported(policy: DTypePolicy) -> None:
    if policy.compute_dtype == "bfloat16" and not bfloat16_supported():
        from fastnn import _core

        raise RuntimeError(f"dtype policy {policy.name!r}: {_core.bf16_unavailable_reason()}")


def set_global_policy(policy) -> None:
    """Sets the policy of models compiled from now on (models already compiled keep theirs).

    Parameters
    ----------
    policy : str, DTypePolicy or None
        "float32", "mixed_bfloat16" or a DTypePolicy; None restores "float32". A bfloat16 policy on
        a machine without AMX-BF16 raises RuntimeError saying why, and the global policy is left
        unchanged.
    """
    global _global
    p = DTypePolicy("float32" if policy is None else policy)
    _check_supported(p)
    _global = p


def global_policy() -> DTypePolicy:
    """The policy compile uses when it is given no dtype_policy.

    Returns
    -------
    DTypePolicy
        "float32" until set_global_policy changes it.
    """
    return _global


def resolve(policy) -> DTypePolicy:
    """compile's dtype_policy argument (None: the global policy), checked against the CPU."""
    p = _global if policy is None else DTypePolicy(policy)
    _check_supported(p)
    return p


def apply(net, policy) -> None:
    """Sets a native network's matrix-product precision from the policy (None: float32)."""
    p = policy or DTypePolicy("float32")
    if p.compute_dtype == "float32" and not hasattr(net, "set_matmul_precision"):
        return
    net.set_matmul_precision(p.compute_dtype)
