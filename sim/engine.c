/* sim/engine.c: to be written */
