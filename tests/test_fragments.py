"""lenta.web.fragments: a part of a page is rendered once per key that
says what it shows, and only a key that says it is accepted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jinja2 import DictLoader
from jinja2 import Environment
from jinja2 import select_autoescape

from lenta.web import fragments


@pytest.fixture
def env() -> Iterator[Environment]:
    renders: list[str] = []
    environment = Environment(
        loader=DictLoader({"list.html": "{% do renders.append(1) %}{% for t in titles %}<li>{{ t }}</li>{% endfor %}"}),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.do"],
    )
    environment.globals["cached_include"] = fragments.cached_include
    environment.globals["renders"] = renders
    fragments._kept.clear()
    yield environment
    fragments._kept.clear()


def page(env: Environment, key: object, titles: list[str]) -> str:
    return env.from_string("<ul>{{ cached_include('list.html', key, titles=titles) }}</ul>").render(key=key, titles=titles)


def test_the_same_key_reuses_the_html_and_another_key_renders_anew(env: Environment) -> None:
    renders = env.globals["renders"]
    assert isinstance(renders, list)
    assert page(env, ("a", "<b>"), ["a", "<b>"]) == "<ul><li>a</li><li>&lt;b&gt;</li></ul>"  # escaped, not doubly
    assert page(env, ("a", "<b>"), ["a", "<b>"]) == "<ul><li>a</li><li>&lt;b&gt;</li></ul>"
    assert len(renders) == 1
    assert page(env, ("a", "c"), ["a", "c"]) == "<ul><li>a</li><li>c</li></ul>"
    assert len(renders) == 2


def test_only_the_latest_keys_are_kept(env: Environment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fragments, "MAX_FRAGMENTS", 2)
    for n in range(5):
        page(env, (n,), [str(n)])
    assert [key for _, key in fragments._kept] == [(3,), (4,)]


def test_a_key_the_page_did_not_give_is_refused(env: Environment) -> None:
    """A template that names a key its context lacks would share one HTML
    between everyone: it fails instead."""
    with pytest.raises(ValueError, match="key must say what it shows"):
        env.from_string("{{ cached_include('list.html', ('links', missing), titles=[]) }}").render()
