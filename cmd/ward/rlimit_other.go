//go:build !unix

package main

// openFileLimit: no limit this platform reports.
func openFileLimit() (uint64, bool) { return 0, false }
