"""Speech synthesis engines behind one interface (synthesize, and stream in 20 ms chunks)."""
