"""Every figure of the book and of the command line, in one place.

- :mod:`memcomp.plots.linear`: the linear model (Figure 1 and the chapters of Parts II-III).
- :mod:`memcomp.plots.neural`: the neural experiments (Figure 2, Table 1 and Part IV).

Each function takes plain results (tidy records, arrays, payloads), draws with matplotlib's
:class:`~matplotlib.figure.Figure` API on the ``ax=``/``axes=`` it is given or on a figure of
its own, and returns the figure: no pyplot state, nothing to close, nothing shown by
``plt.show()``. In a notebook, show it with ``display(fig)``.
"""
