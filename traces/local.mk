# traces/: Perfetto trace writer, .npy files.
noinst_LIBRARIES += libnpusim-traces.a
libnpusim_traces_a_SOURCES = \
	traces/trace-writer.c traces/trace-writer.h \
	traces/trace-lanes.c traces/trace-lanes.h \
	traces/npy.c traces/npy.h

# Unit tests (GTest) and the Python checks. tests/trace-demo is a driver used by
# tests/test-traces-output.py, built for `make check` but not a test itself.
check_PROGRAMS += tests/test-traces-writer tests/test-traces-lanes tests/test-traces-npy \
	tests/trace-demo
TESTS += tests/test-traces-writer tests/test-traces-lanes tests/test-traces-npy \
	tests/test-traces-check.py tests/test-traces-output.py
EXTRA_DIST += tests/trace-check.py tests/test-traces-check.py tests/test-traces-output.py

tests_test_traces_writer_SOURCES = tests/test-traces-writer.c
tests_test_traces_writer_LDADD = $(NPU_LIB_TRACES) $(NPU_LIBS)
tests_test_traces_lanes_SOURCES = tests/test-traces-lanes.c
tests_test_traces_lanes_LDADD = $(NPU_LIB_TRACES) $(NPU_LIBS)
tests_test_traces_npy_SOURCES = tests/test-traces-npy.c
tests_test_traces_npy_LDADD = $(NPU_LIB_TRACES) $(NPU_LIBS)
tests_trace_demo_SOURCES = tests/trace-demo.c
tests_trace_demo_LDADD = $(NPU_LIB_TRACES) $(NPU_LIBS)
