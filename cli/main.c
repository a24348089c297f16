#include <stdio.h>
int main (void) { puts ("npusim: not built yet"); return 1; }
