"""Reports derived from the journals: summary figures and the cap audit."""
