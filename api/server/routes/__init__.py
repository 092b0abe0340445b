"""The routes of ``/v1``, one module per concern; each is a thin adapter over the engine façade."""
