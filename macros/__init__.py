"""VBA modules as text (the Excel button side), shipped as package data xfsheets.macros."""
