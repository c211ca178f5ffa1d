"""Rates count the decoder body only, and say how."""

from judgeaudit.engine.rates import parameter_count, rate_line


def test_parameter_count_leaves_out_the_embedding_and_the_head(smollm2):
    model = smollm2.model
    total = sum(p.numel() for p in model.parameters())  # tied: the embedding is counted once
    emb = model.get_input_embeddings().weight.numel()
    body = parameter_count(model)
    assert body == total - emb
    cfg = model.config
    layer = sum(p.numel() for p in model.model.layers[0].parameters())
    assert body == cfg.num_hidden_layers * layer + model.model.norm.weight.numel()


def test_rate_line_states_tokens_per_second_and_share_of_peak():
    line = rate_line("tokens run", 1000, 2.0, 10**8, 4e11)
    assert "500 tokens/s" in line and "100.0 GFLOP/s" in line and "25.0% of the measured matmul peak (400 GFLOP/s)" in line
    assert "equivalent GFLOP/s" in rate_line("x", 1, 1.0, 1, 1.0, equivalent=True)
