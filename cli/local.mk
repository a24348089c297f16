# cli/: the npusim program (scenario loading, running, outputs, report).
noinst_LIBRARIES += libnpusim-cli.a
libnpusim_cli_a_SOURCES = \
	cli/scenario.c cli/scenario.h cli/default-scenario.c \
	cli/runner.c cli/runner.h \
	cli/outputs.c cli/outputs.h \
	cli/report.c cli/report.h \
	cli/intervals.c cli/intervals.h
npusim_SOURCES += cli/main.c
