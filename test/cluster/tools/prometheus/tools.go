//go:build tools

// Package tools pins the command this module builds, so `go mod tidy` keeps it: promtool, which
// checks and unit-tests the chart's alerting rules.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
