package upgrade

// KubeInventoryStep is kubeInventoryStep, for the tests of package
// upgrade_test (which hold the stand-in control plane).
var KubeInventoryStep = kubeInventoryStep
