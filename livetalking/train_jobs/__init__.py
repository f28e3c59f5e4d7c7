"""Batch work run by the task center on Ray: training, evaluation, verification, export."""
