"""Style-versus-substance perturbation operators, batteries and seed items.

This folder is installed and imported as ``judgeaudit.probes``.
"""
