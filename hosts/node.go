package hosts

import (
	"context"
	"io"
	"io/fs"
)

// Node is what a step of a run needs of a connection to one host: run a
// command (as root, with stdin), write a file, read one. *Client is a
// Node; tests pass a fake that records the commands.
type Node interface {
	// Exec runs cmd through the login shell and returns its trimmed
	// standard output; a non-zero exit is an error.
	Exec(ctx context.Context, cmd string, opts ...ExecOption) (string, error)
	// Upload writes data to dst with mode perm, checked by SHA-256.
	Upload(ctx context.Context, data []byte, dst string, perm fs.FileMode, sudo bool) error
	// ReadFile returns the content of the remote file path.
	ReadFile(ctx context.Context, path string, sudo bool) ([]byte, error)
}

var _ Node = (*Client)(nil)

// ExecSettings are the ExecOptions of one Exec call, for an
// implementation of Node other than Client.
type ExecSettings struct {
	Sudo  bool
	Stdin io.Reader // nil: none
}

// ApplyExecOptions resolves opts as Client.Exec does.
func ApplyExecOptions(opts ...ExecOption) ExecSettings {
	var o execOptions
	for _, f := range opts {
		f(&o)
	}
	return ExecSettings{Sudo: o.sudo, Stdin: o.stdin}
}
