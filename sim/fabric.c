/* sim/fabric.c: to be written */
