"""Calibration of the simulated market against recorded option chains (offline).

``observations`` brings a chain store and the simulator to one columnar shape, ``stats`` measures
the same statistics on both, ``compare`` puts them side by side with a verdict per statistic.
"""
