"""Reports: energy, end-of-life and open-data tables and exports, and the planner's pages."""
