"""Write the catalogs from messages.pot (run by `make messages`).

English is the identity. Russian keeps what ru/messages.po already says and
takes new strings from tools/ru_translations.py; strings gone from the code
are dropped. Messages still without a translation are listed and left
empty, which tests/test_i18n.py reports as a failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.messages.pofile import write_po

sys.path.insert(0, str(Path(__file__).parent))
from ru_translations import RU  # noqa: E402

LOCALE = Path(__file__).resolve().parent.parent / "src" / "lenta" / "locale"


def existing(language: str) -> dict[str, object]:
    path = LOCALE / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        old = read_po(handle, locale=language)
    found: dict[str, object] = {}
    for message in old:
        if message.id and not message.fuzzy:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if all(strings):
                found[message.id[0] if isinstance(message.id, tuple) else message.id] = message.string
    return found


def build(language: str, template: Catalog) -> tuple[Catalog, list[str]]:
    catalog = Catalog(locale=language, project="lenta", domain="messages")
    kept = existing(language)
    missing: list[str] = []
    for message in template:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if language == "en":
            string: object = message.id
        else:
            string = kept.get(key) or RU.get(key)
            if string is None:
                missing.append(key)
                string = ("",) * catalog.num_plurals if isinstance(message.id, tuple) else ""
        catalog.add(message.id, string, flags=message.flags - {"fuzzy"})
    return catalog, missing


def main() -> int:
    with (LOCALE / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    status = 0
    for language in ("en", "ru"):
        catalog, missing = build(language, template)
        target = LOCALE / language / "LC_MESSAGES" / "messages.po"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
        for key in missing:
            print(f"{language}: no translation for {key!r}")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
