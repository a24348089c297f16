/* ops/tensor.c: to be written */
