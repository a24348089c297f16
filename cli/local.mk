# cli/: the npusim program.
noinst_LIBRARIES += libnpusim-cli.a
libnpusim_cli_a_SOURCES = cli/stub.c
npusim_SOURCES += cli/main.c
