/* sim/server.c: to be written */
