"""Collection: profiles (schema, matching), their evaluation, the SNMP and host collectors."""
