"""Duplicate warnings for a document being added: ``finder`` (the calibrated rule and its French
reasons) and ``candidates`` (the documents compared besides the semantic neighbours)."""
