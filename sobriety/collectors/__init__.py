"""Code that runs collection: SNMP profiles, the local host."""
