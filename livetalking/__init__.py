"""LiveTalking: clone people into real-time digital humans."""

__version__ = "0.1.0"
