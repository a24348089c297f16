# ops/qmmar.mk: owned by the qmmar work; included from Makefile.am.
