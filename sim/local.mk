# sim/: the discrete-event core (GLib only).
noinst_LIBRARIES += libnpusim-sim.a
libnpusim_sim_a_SOURCES = \
	sim/engine.c sim/engine.h \
	sim/server.c sim/server.h \
	sim/fabric.c sim/fabric.h \
	sim/graph.c sim/graph.h \
	sim/region-set.c sim/region-set.h \
	sim/sink.c sim/sink.h

# Unit tests of the event core.
sim_tests = tests/test-sim-engine tests/test-sim-server tests/test-sim-fabric \
	tests/test-sim-graph tests/test-sim-regions
check_PROGRAMS += $(sim_tests)
TESTS += $(sim_tests)
tests_test_sim_engine_SOURCES = tests/test-sim-engine.c
tests_test_sim_engine_LDADD = $(NPU_LIB_SIM) $(NPU_LIBS)
tests_test_sim_server_SOURCES = tests/test-sim-server.c
tests_test_sim_server_LDADD = $(NPU_LIB_SIM) $(NPU_LIBS)
tests_test_sim_fabric_SOURCES = tests/test-sim-fabric.c tests/test-sim-sink.h
tests_test_sim_fabric_LDADD = $(NPU_LIB_SIM) $(NPU_LIBS)
tests_test_sim_graph_SOURCES = tests/test-sim-graph.c tests/test-sim-sink.h
tests_test_sim_graph_LDADD = $(NPU_LIB_SIM) $(NPU_LIBS)
tests_test_sim_regions_SOURCES = tests/test-sim-regions.c
tests_test_sim_regions_LDADD = $(NPU_LIB_SIM) $(NPU_LIBS)

# The fabric against an exact fluid model in Python (driver + TAP script).
check_PROGRAMS += tests/sim-fabric-dump
tests_sim_fabric_dump_SOURCES = tests/sim-fabric-dump.c
tests_sim_fabric_dump_LDADD = $(NPU_LIB_SIM) $(NPU_LIBS)
TESTS += tests/test-sim-fabric-ref.py
EXTRA_DIST += tests/test-sim-fabric-ref.py
