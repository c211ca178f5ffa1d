"""SOS-Bench task specs (YAML) and small fixture item sets."""
