# tests/: runner scripts, shared Python helpers, CLI and scenario tests.
EXTRA_DIST += tests/run-test.sh tests/summary.sh tests/npusim_test.py
TESTS += tests/test-cli.py tests/test-scenarios.py
EXTRA_DIST += tests/test-cli.py tests/test-scenarios.py
dist_scenarios_DATA += scenarios/a2-default.json scenarios/a2-allreduce-8.json \
	scenarios/a2-allgather-2server.json scenarios/a3-alltoallv-16.json
