"""`servectl`: the platform's command line (Typer). Each concern is one module adding commands to `app`."""
