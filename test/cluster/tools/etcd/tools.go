//go:build tools

// Package tools pins the commands this module builds, so `go mod tidy` keeps them: etcd, and
// etcdctl for the end-to-end test that reads stored Secrets straight from etcd.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
