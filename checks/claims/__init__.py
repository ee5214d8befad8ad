"""One module per claim family, named ``<claim id, lower case, zero-padded>_<topic>.py``: the claim's
checks and controls (``checks.engine.registry`` decorators), its logic, and the path observers it
needs (``checks.model.observers``).  A claim module imports the engine, the model and theory/, never
another claim module."""
