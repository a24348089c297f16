/* ops/dtype.c: to be written */
