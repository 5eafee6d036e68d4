"""RSS 1.0 and RSS 0.90: RDF documents whose ``channel``, ``image`` and
``item`` elements are siblings under ``rdf:RDF``.

Apart from the namespaces and that layout, RSS 1.0 is RSS: the elements
and the modules (Dublin Core, ``content:encoded``, syndication) are read
by :func:`lenta.parse.rss.read_channel`.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

from lenta.parse.model import ParsedFeed
from lenta.parse.rss import channel_tags
from lenta.parse.rss import item_tags
from lenta.parse.rss import read_channel

NS_RSS10: Final = "http://purl.org/rss/1.0/"
NS_RSS090: Final = "http://my.netscape.com/rdf/simple/0.9/"

_TABLES: Final = {
    ns: (channel_tags(ns), item_tags(ns))
    # None: a sloppy RDF feed that forgot its default namespace.
    for ns in (NS_RSS10, NS_RSS090, None)
}


def parse(root: etree._Element, *, url: str) -> ParsedFeed:
    """Adapt an ``rdf:RDF`` document to a ParsedFeed."""
    channel = None
    siblings = []
    for child in root:
        tag = child.tag
        if channel is None and isinstance(tag, str) and (tag == "channel" or tag.endswith("}channel")):
            channel = child
        else:
            siblings.append(child)
    if channel is None:
        # No channel at all: still read the items, with no feed metadata.
        channel, siblings = root, []
        ns = _namespace_of_items(root)
    else:
        ns = etree.QName(channel).namespace
    fmt = "rss0.9x" if ns == NS_RSS090 else "rss1.0"
    tables = _TABLES.get(ns) or (channel_tags(ns), item_tags(ns))
    return read_channel(
        channel,
        url=url,
        fmt=fmt,
        siblings=siblings,
        tags=tables[0],
        item_tags=tables[1],
    )


def _namespace_of_items(root: etree._Element) -> str | None:
    for child in root:
        if isinstance(child.tag, str) and child.tag.endswith("item"):
            return etree.QName(child).namespace
    return NS_RSS10
