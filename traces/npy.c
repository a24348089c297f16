/* traces/npy.c: to be written */
