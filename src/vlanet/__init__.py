"""vlanet: VLANet (Ma et al., ECCV 2020) for weakly-supervised video moment retrieval."""

__version__ = "0.1.0"
