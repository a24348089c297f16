/* models/cluster.c: to be written */
