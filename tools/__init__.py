"""Development tools (not in the installed package): the demo-data generator and its figure."""
