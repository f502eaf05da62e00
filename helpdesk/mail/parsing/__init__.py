"""Parsing: raw mail bytes -> ``ParsedMail`` (headers, text, sanitised HTML, attachments).

``parse.parse_mail`` is the entry point and never raises; ``parsed`` holds the plain
structure every later stage reads; ``decode`` (charsets, encoded words, addresses),
``headers`` (cached header classes), ``mimewalk`` (the MIME tree, TNEF), ``sanitize``
(HTML cleaning, HTML to text, quoted text), ``storable`` (every value cut to its
column, NUL and surrogates out) and ``filenames`` (attachment names without bidi or
control characters or a directory part) are its parts. The work per mail is bounded: HTML deeper
than ``sanitize.MAX_DEPTH`` is flattened in linear time, large HTML and text have size
limits, and a time budget past which HTML is shown as text.

A pure format package: no database, no network. It may import the standard library, its
parsing libraries, ``helpdesk.blobs`` (attachment bytes) and ``helpdesk.limits`` (the
column limits), nothing else of helpdesk.
"""
