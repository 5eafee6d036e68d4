"""Parts of a page rendered once for what they show, then reused.

The reader's navigation lists every feed a person follows, with its unread
count, on every page, and the search form offers every feed again: at a
thousand feeds that is a tenth of a page's time, for HTML that is the same
from one page to the next until a count or a title changes. A fragment is
kept under a key that says everything it shows (ids, titles, counts), so
the same key is the same HTML, whoever asks: nothing can be stale or
belong to someone else. A fragment holds no translated text (the
language is not in the key).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from jinja2 import Environment
from jinja2 import Undefined
from jinja2 import pass_environment
from markupsafe import Markup

MAX_FRAGMENTS = 32  # the latest keys kept; each is about 100 KB at a thousand feeds

_kept: OrderedDict[tuple[str, Hashable], Markup] = OrderedDict()
_lock = threading.Lock()


@pass_environment
def cached_include(env: Environment, name: str, key: Hashable, **context: Any) -> Markup:
    """The template ``name`` rendered with ``context``, which ``key`` must
    describe in full (equal keys, equal HTML); reused while it is among the
    latest :data:`MAX_FRAGMENTS` keys asked for."""
    parts = key if isinstance(key, tuple) else (key,)
    if any(isinstance(part, Undefined) for part in parts):  # a key the page forgot: never share it
        raise ValueError(f"{name}: a fragment's key must say what it shows, not {key!r}")
    wanted = (name, key)
    with _lock:
        found = _kept.get(wanted)
        if found is not None:
            _kept.move_to_end(wanted)
            return found
    html = Markup(env.get_template(name).render(**context))  # autoescaped: the template is .html
    with _lock:
        _kept[wanted] = html
        while len(_kept) > MAX_FRAGMENTS:
            _kept.popitem(last=False)
    return html
