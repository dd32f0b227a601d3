"""Batch files: rows, chunks, the claims ledger, job records, reports and the file's workflow steps."""
