"""The labs: gradient accumulation, micro-batches, the optimizer lab and retain_graph."""
