# traces/: Perfetto trace writer, .npy files.
noinst_LIBRARIES += libnpusim-traces.a
libnpusim_traces_a_SOURCES = \
	traces/trace-writer.c traces/trace-writer.h \
	traces/npy.c traces/npy.h
