"""nn.Modules and model configs that are ours."""
