/* sim/graph.c: to be written */
