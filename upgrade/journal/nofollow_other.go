//go:build !unix

package journal

// oNoFollow: no such flag here; openRegular's check after the open remains.
const oNoFollow = 0
