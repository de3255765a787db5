"""Which torch device a config asks for: one function that training and inference both use
(so that prediction does not import the training loop)."""

from __future__ import annotations

import torch

from vlanet.utils.errors import InputError


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when there is one) as a torch device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"config: field 'train.device' is {name!r} but no CUDA device is available")
    return torch.device(name)
