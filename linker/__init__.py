"""linker stage."""
