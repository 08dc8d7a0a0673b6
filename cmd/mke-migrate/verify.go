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
		Description: `Reads the run's discovery.json (each node's name and labels) and rbac-export.json, then checks
through the admin kubeconfig (which points at the external address): every node Ready with its labels,
the kube-system pods running, every translated RBAC object present, a SubjectAccessReview per org and
team group for a permission its role grants, and the API answering on the external address. Exit 0
when everything passed, 3 otherwise.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Usage: "the upgrade's output `DIR`", Required: true},
			&cli.StringFlag{Name: "kubeconfig", Usage: "the MKE 4k admin kubeconfig `FILE` (default ~/.mke/mke.kubeconf)"},
			&cli.BoolFlag{Name: "json", Usage: "print the checks as JSON"},
		},
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	exp, err := verify.FromRun(c.String("output"), &rbac.Options{})
	if err != nil {
		return usageErr(err)
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
	rep, err := verify.Run(c.Context, verify.Options{Client: cs, External: cs, Expect: exp})
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
