"""Style-versus-substance perturbation operators, batteries and seed items."""
