"""Merchants: the merchant directory (API keys) and the verified caller of a request."""
