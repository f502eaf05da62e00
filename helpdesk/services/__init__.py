"""Services: the only code that commits. Routes, CLI commands and workers call these."""
