"""The `suarawarga` command line: one module per command group, one output and error layer (`output`)."""
