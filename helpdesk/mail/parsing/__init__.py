"""Parsing: raw mail bytes -> ``ParsedMail`` (headers, text, sanitised HTML, attachments).

``parse.parse_mail`` is the entry point and never raises; ``parsed`` holds the plain
structure every later stage reads; ``decode`` (charsets, encoded words, addresses),
``headers`` (cached header classes), ``mimewalk`` (the MIME tree, TNEF) and ``sanitize``
(HTML cleaning, HTML to text, quoted text) are its parts.

A pure format package: no database, no network. It may import the standard library, its
parsing libraries and ``helpdesk.blobs`` (attachment bytes), nothing else of helpdesk.
"""
