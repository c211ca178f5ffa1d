"""The scoring engine: batched log-likelihood (and generation) over (context, continuation) requests."""
