"""``helpdesk users``: import E-tunnus users from the register's CSV export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from helpdesk.db import session_scope
from helpdesk.services import user_import

users_app = typer.Typer(help="E-tunnus users (the people who invoice).", no_args_is_help=True)


@users_app.command("import")
def import_users(
    file: Annotated[Path, typer.Argument(help="CSV with the header etunnus,name,email,phone.")],
) -> None:
    """Create or update users from a CSV file; several emails or phones separated by ';'.

    All or nothing: every row is checked first, and a file with any error (a bad row, a
    byte that is not UTF-8, an unclosed quote, a NUL, a cell over 10,000 characters)
    imports nothing. Errors are listed (line N: reason); the last line is a JSON summary.
    Exits with 1 when the file was refused, so scheduled imports notice.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    with session_scope() as session:
        report = user_import.import_csv(session, data)
    for error in report.errors:
        typer.echo(f"line {error.line}: {error.reason}")
    if report.errors:
        typer.echo("nothing was imported: correct the lines above and import the file again")
    typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
    if report.errors:
        raise typer.Exit(1)
