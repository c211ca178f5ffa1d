"""judgeaudit: audit LLM judges for style-over-substance bias, beside SOS-Bench ground truth.

Layout: the library is this folder, plus three top-level folders of the repository that are
installed as its subpackages (see ``[tool.setuptools.package-dir]`` in pyproject.toml):
``kernels/`` is imported as ``judgeaudit.kernels``, ``probes/`` as ``judgeaudit.probes`` and
``benchmarks/`` as ``judgeaudit.benchmarks``.

Shared definitions: ``vocabulary`` (orders, probe kinds, verdicts, criteria), ``contracts``
(the typed records and results files), ``errors`` (the library's exceptions), ``console``
(the rich console and progress bar). ``audit`` runs probes and audits; ``cli`` is a thin
layer over it.
"""

__version__ = "0.1.0"
