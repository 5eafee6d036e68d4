"""lenta: a feed aggregator.

The public surface is :class:`Lenta` (the facade every edge calls),
:func:`make_lenta`, the data types and the exceptions.
"""

# The one place the version is written: pyproject.toml reads it (hatch's dynamic
# version), `lenta --version` and the User-Agent show it.
__version__ = "0.1.0"
