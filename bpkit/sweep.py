"""Many seeds at once: the names of :mod:`bpkit.fast_sweep`, importable as before.

``bpkit.sweep.train_mlp_seeds`` and ``bpkit.sweep.xor_seed_sweep`` train one MLP per
seed as a single stacked computation, bit for bit equal to :func:`bpkit.train.train_mlp`
seed by seed.  They exist only for speed and live in :mod:`bpkit.fast_sweep`.
"""

from .fast_sweep import train_mlp_seeds, xor_seed_sweep

__all__ = ["train_mlp_seeds", "xor_seed_sweep"]
