"""The embedded demo: the bundled recordings served by snmpsim on loopback, and its fleet."""
