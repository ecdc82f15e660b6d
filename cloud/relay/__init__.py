"""The relay: daemons' tunnels published at public hosts, behind token checks."""
