"""Network layer: routing, path set-up, swapping, cutoffs and purification."""
