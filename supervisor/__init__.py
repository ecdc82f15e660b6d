"""Process mode: the broker, the cloud emulator and the five services, watched."""
