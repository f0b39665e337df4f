"""Command-line tools (`leapp-ros ...`): one module per subcommand, one error convention for all."""
