"""judgeaudit: audit LLM judges for style-over-substance bias, beside SOS-Bench ground truth."""

__version__ = "0.1.0"
