"""The `ipv2` command line: one module per subcommand."""
