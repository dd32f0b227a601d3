"""Events: one event object per transition, written from the audit table's stream, read by the API."""
