"""The sync APIs reader apps speak (issue 12): each a thin edge over the
user's :class:`~lenta.reader.Reader` (docs/sync-apis.md)."""
