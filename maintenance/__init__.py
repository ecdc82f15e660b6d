"""The host maintenance tool: enables, disables and links the daemon per server."""
