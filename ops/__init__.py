"""Operator commands against a deployed stack (``make merchant``)."""
