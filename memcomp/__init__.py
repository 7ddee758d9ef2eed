"""memcomp: memorizing long-tail data can help generalization through composition.

Companion package of the memcomp book. It reproduces Zhou, Ma and Ge (2025),
"Memorizing long-tail data can help generalization through composition".

Modules (one concept each):

- :mod:`memcomp.linear`  the long-tail linear model, min-norm solvers, theory, influence
- :mod:`memcomp.data`    bundled MNIST, rare symbols, the digit-sum task, downloads
- :mod:`memcomp.nets`    encoders, composition heads, training
- :mod:`memcomp.experiments`  the paper's figures and table as runnable experiments
- :mod:`memcomp.plots`   every figure (linear and neural), Figure API, ``ax=``
- :mod:`memcomp.reference`  printed training numbers checked against committed references
- :mod:`memcomp.records` recorded runs (GPU, long CPU) shipped with the package
- :mod:`memcomp.config`  scales, devices, seeds, threads and progress bars
"""

from memcomp.config import progress, resolve_device, resolve_scale, set_seed, set_threads

__version__ = "0.1.0"

__all__ = ["progress", "resolve_device", "resolve_scale", "set_seed", "set_threads", "__version__"]
