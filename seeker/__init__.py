"""Seeker: risk-defined option strategies side by side, under one Risk Guard."""
