"""What formats keep of a source besides its HypervConfig, as plain data
that checks and renderers may judge without importing a parser: one module
per format that keeps anything (a libvirt domain's facts, where a QEMU
command line holds its -cpu)."""
