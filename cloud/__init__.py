"""CloudLink emulator: the cloud side of a link, for development, tests and demos."""
