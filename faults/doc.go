// Package faults is gomon's standing fault suite.
package faults
