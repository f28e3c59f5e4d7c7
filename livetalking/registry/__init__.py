"""Model registry: card schema, register/list/show/delete/promote/rollback, artifact verification."""
