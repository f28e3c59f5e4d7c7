"""Control plane: database, artifact store, auth, audit, consent, takes, task center. No Ray import here."""
