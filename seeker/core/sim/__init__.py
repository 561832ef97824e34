"""The embedded simulated market (seeded, deterministic) and the SimBroker built on it."""
