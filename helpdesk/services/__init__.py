"""Services: the domain actions. Routes, CLI commands and workers call these.

Every action that writes is a unit of work (``helpdesk.db.transaction``; inside another
unit it joins it). With the mail pipelines and the queue runners, services are the only
code that opens one; docs/architecture.md has the rule.
"""
