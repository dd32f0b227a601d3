"""Shared payment domain: money, models, lifecycle, repository and step logic."""
