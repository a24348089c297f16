# sim/: the discrete-event core (GLib only).
noinst_LIBRARIES += libnpusim-sim.a
libnpusim_sim_a_SOURCES = \
	sim/engine.c sim/engine.h \
	sim/server.c sim/server.h \
	sim/fabric.c sim/fabric.h \
	sim/graph.c sim/graph.h \
	sim/sink.c sim/sink.h
