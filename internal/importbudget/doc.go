// Package importbudget holds only a test: it keeps the pure packages of
// the module light by failing when one of them links a forbidden package
// (client-go, rig, apimachinery's runtime, ...) or more packages than its
// budget. See README "Dependencies" and hack/deps.sh for the figures.
package importbudget
