package main

import (
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/verify"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "check the upgraded cluster against what the upgrade's output folder recorded before it",
		Description: `Reads what the upgrade's output folder recorded before anything changed (discovery.json: each
node's name and labels; kube-inventory.json: every Kubernetes object of MKE 3 by kind, namespace, name
and UID, and the nodes' taints; rbac-export.json), then checks through the admin kubeconfig (which
points at the external address):
  nodes         every node Ready, with its labels and taints (node.kubernetes.io/ ones follow the
                node's conditions and are not compared)
  system-pods   in each system namespace, every pod Running and Ready or Succeeded, and every
                Deployment, StatefulSet and DaemonSet with as many ready replicas as it wants; a
                namespace with nothing in it passes and says so
  objects       every recorded object still there with the same UID (leases, endpoints, APIServices,
                flow-control settings and Pods of a controller are counted, not required)
  rbac-object   every RBAC object translated from MKE 3's orgs and teams
  rbac-access   per org and team grant, SubjectAccessReviews for a member: the grant's permission
                allowed, one none of their bindings gives denied; an org or team without members
                or Kubernetes grants is skipped saying so; the text counts the reviews
  external-api  the API answering on the external address
Exit 0 when no check fails, 3 otherwise. The upgrade runs the same checks as its last step (see
upgrade --skip-verify).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Usage: "the upgrade's output `DIR`", Required: true},
			&cli.StringFlag{Name: "kubeconfig", Usage: "the MKE 4k admin kubeconfig `FILE` (default ~/.mke/mke.kubeconf)"},
			&cli.StringSliceFlag{Name: "system-namespace", Usage: "a system `NAMESPACE` whose pods and workloads must run (repeat; default kube-system and mke)"},
			&cli.BoolFlag{Name: "json", Usage: "print every check as JSON"},
		},
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	exp, err := verify.FromRun(c.String("output"), &rbac.Options{})
	if err != nil {
		return usageErr(err)
	}
	if ns := c.StringSlice("system-namespace"); len(ns) > 0 {
		exp.SystemNamespaces = ns
	}
	kc := c.String("kubeconfig")
	if kc == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return usagef("--kubeconfig: no home folder: give the file")
		}
		kc = filepath.Join(home, ".mke", "mke.kubeconf")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		return usagef("--kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return usagef("--kubeconfig: %w", err)
	}
	rep, err := verify.Run(c.Context, verify.Options{Client: cs, External: cs, ExternalAddress: rc.Host, Expect: exp})
	if err != nil {
		return failure(err)
	}
	if err := writeResult(c, rep); err != nil {
		return failure(err)
	}
	if !rep.OK() {
		return silentExit(exitBlocking)
	}
	return nil
}
