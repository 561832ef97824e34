"""The typer commands."""
