"""Level-to-level conversions, one module per pass (`convert-<src>-to-<dst>`)."""
