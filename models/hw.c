/* models/hw.c: to be written */
