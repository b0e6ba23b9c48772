"""Energy: a power reading per device (measured or estimated), integration, totals, calendars."""
