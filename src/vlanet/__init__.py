"""vlanet: VLANet (Ma et al., ECCV 2020) for weakly-supervised video moment retrieval.

``from vlanet import Predictor`` is the Python API (vlanet.api); it is imported lazily so the
command line starts fast.
"""

__version__ = "0.1.0"
__all__ = ["Predictor", "EncodedVideo"]


def __getattr__(name: str):
    if name in ("Predictor", "EncodedVideo"):
        from vlanet import api

        return getattr(api, name)
    raise AttributeError(f"module 'vlanet' has no attribute {name!r}")
