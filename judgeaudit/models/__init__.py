"""Model specs and loading: hub ids, local directories, GGUF files, the embedded SmolLM2."""
