/* models/cost.c: to be written */
