// Package version holds gomon's own version, which `mon -v`, the log,
// cluster membership and the gomon_build_info metric report.
package version

// Gomon is this program's version.
const Gomon = "0.1.0"
