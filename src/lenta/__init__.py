"""lenta: a feed aggregator.

The public surface is :class:`Lenta` (the facade every edge calls),
:func:`make_lenta`, the data types and the exceptions.
"""

__version__ = "0.1.0"
