"""What goes back to a unit: a receipt, its own sheets annotated, and the findings as JSON."""
