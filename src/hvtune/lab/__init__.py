"""hvtune lab: boot real guests with two configurations and measure both."""
