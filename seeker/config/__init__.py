"""The root config: every domain's own table, assembled and loaded (the facade above the kernel)."""
