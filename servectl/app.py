"""The Typer application object; command modules import it and add their commands."""

import typer

app = typer.Typer(help="Serve, train and manage the TensorLayer book's model families.", no_args_is_help=True)
