"""The application layer: every use case of stratgate, once.

API routes, UI handlers and CLI commands parse their input, call one function here with the
acting `Principal` and the `Ports` it needs, and render its result or its refusal.
"""
