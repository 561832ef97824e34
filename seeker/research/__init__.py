"""Offline research: search spaces, walk-forward folds, the statistics that grade a candidate,
and the optimisation study that runs the real engine for every trial (``seeker optimize``).

Nothing here trades on a broker: runs use the simulated market or replayed chains. The layer sits
below ``seeker.reports``; the journal reader a study's runs need is handed in from above.
"""
