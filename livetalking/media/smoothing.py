"""The One Euro filter (Casiez et al. 2012): strong smoothing when still, little lag when moving."""

import numpy as np


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2 * np.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters arrays of any shape sampled at a fixed rate; reset() forgets the past (e.g. after a lost face)."""

    def __init__(self, rate_hz: float, min_cutoff_hz: float = 1.0, beta: float = 0.05,
                 derivative_cutoff_hz: float = 1.0):
        self.dt = 1.0 / rate_hz
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff_hz, beta, derivative_cutoff_hz
        self.reset()

    def reset(self) -> None:
        self.previous: np.ndarray | None = None
        self.derivative: np.ndarray | None = None

    def __call__(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self.previous is None:
            self.previous, self.derivative = value, np.zeros_like(value)
            return value
        derivative = (value - self.previous) / self.dt
        a_d = _alpha(self.d_cutoff, self.dt)
        self.derivative = a_d * derivative + (1 - a_d) * self.derivative
        cutoff = self.min_cutoff + self.beta * np.abs(self.derivative)
        tau = 1.0 / (2 * np.pi * cutoff)
        a = 1.0 / (1.0 + tau / self.dt)
        self.previous = a * value + (1 - a) * self.previous
        return self.previous
