"""Ray Serve deployments, the app builder, and the FastAPI ingress with the API routers."""
