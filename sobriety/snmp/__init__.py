"""SNMP: value types, the transport protocol, a recorded fake and the real transports."""
