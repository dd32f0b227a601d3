"""Webhooks: merchants ' endpoints, their signing secrets, and the delivery of events to them."""
