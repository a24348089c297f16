# ops/matmul.mk: owned by the matmul work; included from Makefile.am.
