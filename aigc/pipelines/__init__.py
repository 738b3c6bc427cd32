"""One module per task: validate a request, load the model through the registry, generate."""
