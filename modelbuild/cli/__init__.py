"""The command line: thin typer commands over the core, and the one place errors become exit codes."""
