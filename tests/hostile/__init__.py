"""A hostile HTTP server of lenta's own, and the refresh round it attacks.

- :mod:`hostile.server`: the server (raw asyncio streams on 127.0.0.1, so it
  can send what no well-behaved server library would) and the private
  "internal service" lenta must never reach;
- :mod:`hostile.feeds`: feed documents, bombs and big bodies;
- :mod:`hostile.catalogue`: every named bad answer and what a careful
  aggregator makes of it;
- ``test_hostile_round.py``: all of them in one refresh round with 20 good
  feeds, and each alone.
"""
