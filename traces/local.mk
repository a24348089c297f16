# traces
