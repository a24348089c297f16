/* traces/trace-writer.c: to be written */
