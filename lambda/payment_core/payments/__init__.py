"""Payments: the model, money and limits, the repository, intake and the workflow's steps."""
