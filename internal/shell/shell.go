// Package shell quotes words for a POSIX shell: the one quoting helper of
// every remote command mke-migrate builds.
package shell

import "strings"

// Quote makes s one word of a POSIX sh command, whatever it holds: it is
// wrapped in single quotes, inside which nothing can be escaped, so each
// single quote of s ends the quoted part, is escaped with a backslash, and
// starts a new quoted part (POSIX.1-2017, Shell Command Language, 2.2.2
// Single-Quotes):
//
//	it's  ->  'it'\''s'
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// safe are the bytes that need no quoting anywhere in a word: none is a
// shell operator, expansion or glob character, nor white space.
const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:+@"

// Word is s as one shell word: s itself when every byte is plainly safe
// (which keeps commands readable in logs and errors), else Quote(s). The
// empty string is ”.
func Word(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return Quote(s)
}

// Join is the words of args, each made one word by Word, separated by
// spaces.
func Join(args ...string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = Word(a)
	}
	return strings.Join(out, " ")
}

// Sudo is cmd run by sh -c, for running a whole command line (with its
// redirections, pipes and lists) under sudo, which itself runs only one
// program.
func Sudo(cmd string) string { return "sh -c " + Quote(cmd) }
