"""Helpers the tests share: real programs, and what they say."""
