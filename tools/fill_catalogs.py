"""Write the catalogs from messages.pot: English is the identity; Russian
comes from tools/ru_translations.py. Run after `make messages`:

    python tools/fill_catalogs.py

Messages without a Russian translation are listed and left empty, which
tests/test_i18n.py reports as a failure.
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


def build(language: str, template: Catalog) -> tuple[Catalog, list[str]]:
    catalog = Catalog(locale=language, project="lenta", domain="messages")
    missing: list[str] = []
    for message in template:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if language == "en":
            string: object = message.id
        else:
            string = RU.get(key)
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
    unused = set(RU) - {m.id[0] if isinstance(m.id, tuple) else m.id for m in template if m.id}
    for key in sorted(unused):
        print(f"ru: translation no longer used: {key!r}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
