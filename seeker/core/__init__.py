"""Machinery shared by every strategy; knows nothing about any strategy."""
