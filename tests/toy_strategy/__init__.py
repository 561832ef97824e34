"""A toy strategy that lives in the tests only: one package plus one config table, nothing else.

It proves that adding a strategy touches nothing under ``seeker/``: a short put vertical at one
delta, on any regime, managed by the shared exit rules.
"""
