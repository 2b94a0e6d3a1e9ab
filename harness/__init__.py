"""What the tests and the benchmarks both use to drive the platform, and nothing else does:
a probe service built on the runtime alone (probe.py), small Kafka helpers (kafka.py), and
free ports and readiness of service processes (processes.py). It sits above the services
and below tests/ and benchmarks/, so neither imports the other."""
