//go:build !fakenodelight

package main

// lightProgram is false in the full program: it simulates everything,
// k0s included, and links client-go and k0s's config types for it.
const lightProgram = false
