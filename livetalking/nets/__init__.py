"""Torch modules only: lip-sync generators, SyncNet, voice models."""
