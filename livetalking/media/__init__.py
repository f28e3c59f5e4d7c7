"""Pure functions on media arrays and files: probing, validation, decoding, chroma analysis."""
