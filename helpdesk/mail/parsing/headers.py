"""``email.policy.default`` with a header factory that does not rebuild what it built before.

With the default policy every ``msg.get(name)`` (and so every ``get_content_type()``,
which the parser and the MIME walk call many times per part) builds a new header
class with ``type()`` and parses the value again. Both results depend only on their
inputs: the class on the header name, the header object on (name, value). Header
objects are immutable once built (a ``str`` with read-only properties), so handing
out the same object again is indistinguishable from building a new one. The value
cache holds short values only, is bounded and is simply emptied when full.
"""

from __future__ import annotations

import email.policy
from email.headerregistry import BaseHeader, HeaderRegistry
from typing import Any

#: Header objects kept: a mail reuses a handful of values (Content-Type above all) many
#: times; the bound keeps a mail with thousands of distinct headers from pinning memory.
_VALUE_LIMIT = 256
#: Longer values are parsed every time: they rarely repeat, and their parse trees are big.
_MAX_CACHED_LENGTH = 500


class CachingHeaderRegistry(HeaderRegistry):
    """A ``HeaderRegistry`` that reuses its header classes and parsed headers."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}
        self._values: dict[tuple[str, str], BaseHeader] = {}

    def map_to_type(self, name: str, cls: type[BaseHeader]) -> None:
        """As ``HeaderRegistry.map_to_type``; forgets what was built for the old type."""
        super().map_to_type(name, cls)
        self._classes.clear()
        self._values.clear()

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if type(name) is not str or type(value) is not str or len(value) > _MAX_CACHED_LENGTH:
            return self[name](name, value)  # only plain, short strings are cached
        key = (name, value)
        header = self._values.get(key)
        if header is None:
            header = self[name](name, value)
            if len(self._values) >= _VALUE_LIMIT:
                self._values.clear()
            self._values[key] = header
        return header


#: ``email.policy.default`` parsing through ``CachingHeaderRegistry``.
DEFAULT = email.policy.default.clone(header_factory=CachingHeaderRegistry())

__all__ = ["DEFAULT", "CachingHeaderRegistry"]
