"""Shared decision makers: regime, events, critic, vetoes, FX, confidence."""
