"""Offline research: search spaces, walk-forward folds, and the statistics that grade a candidate.

Nothing here trades or touches a broker; it imports only ``seeker.core``.
"""
