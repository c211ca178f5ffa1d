"""SOS-Bench ground truth: task specs, data, scoring, aggregation and correlation with judges."""
