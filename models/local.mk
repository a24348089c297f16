# models/: hardware parameters, presets, topology, cost functions.
noinst_LIBRARIES += libnpusim-models.a
libnpusim_models_a_SOURCES = \
	models/hw.c models/hw.h \
	models/cluster.c models/cluster.h \
	models/cost.c models/cost.h
dist_presets_DATA += models/presets/a2.json models/presets/a3.json
