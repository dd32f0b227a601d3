"""The REST API's edge: the error table, request parsing and signed page tokens."""
