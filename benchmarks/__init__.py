"""SOS-Bench task specs (YAML) and small fixture item sets.

This folder is installed and imported as ``judgeaudit.benchmarks``.
"""
