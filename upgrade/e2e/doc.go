// Package e2e holds the end-to-end test of the upgrade on the realistic
// test bed (testbed.ClusterOptions.Real): a package of its own, so that
// its minutes count against a test timeout of their own. It has no API.
package e2e
