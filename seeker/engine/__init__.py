"""The strategy cycle, split by lifecycle, and what runs it: services, registry, manager, runner."""
