"""The daemon: composition root, scheduler and poller, live snapshot, self cost, HTTP server."""
