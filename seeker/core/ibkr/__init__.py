"""IBKR through ib_async: one gateway thread owns the connection, strategies call a facade."""
