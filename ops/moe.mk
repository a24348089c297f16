# ops/moe.mk: owned by the moe work; included from Makefile.am.
