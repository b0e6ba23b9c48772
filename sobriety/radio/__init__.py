"""Radio: conducted power to EIRP to an upper bound of the field; radio on-time vs teaching."""
