//go:build tools

// Package tools pins the etcd server and the etcdctl and etcdutl tools the
// tests run, all at one etcd version.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
