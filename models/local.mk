# models/: hardware parameters, presets, topology, cost functions.
noinst_LIBRARIES += libnpusim-models.a
libnpusim_models_a_SOURCES = \
	models/hw.c models/hw.h models/hw-private.h \
	models/preset.c \
	models/cluster.c models/cluster.h \
	models/cost.c models/cost.h
dist_presets_DATA += models/presets/a2.json models/presets/a3.json

# Tests of models/ (GTest, TAP).
models_tests = tests/test-models-preset tests/test-models-cluster tests/test-models-cost
check_PROGRAMS += $(models_tests)
TESTS += $(models_tests)
tests_test_models_preset_SOURCES = tests/test-models-preset.c
tests_test_models_preset_LDADD = $(NPU_LIB_MODELS) $(NPU_LIBS)
tests_test_models_cluster_SOURCES = tests/test-models-cluster.c
tests_test_models_cluster_LDADD = $(NPU_LIB_MODELS) $(NPU_LIBS)
tests_test_models_cost_SOURCES = tests/test-models-cost.c
tests_test_models_cost_LDADD = $(NPU_LIB_MODELS) $(NPU_LIBS)
