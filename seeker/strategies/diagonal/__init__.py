"""Diagonal / calendar: long 60–90 DTE, short 21–30 DTE slightly OTM; the short is rolled."""

from seeker.strategies.diagonal.strategy import Diagonal

__all__ = ["Diagonal"]
