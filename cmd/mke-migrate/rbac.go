package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/fromapi"
	"github.com/mke-migrate/mke-migrate/rbac/kube"
)

// optionalMKE3Flags are mke3Flags for commands that can also work without
// the MKE 3 API (from a file).
func optionalMKE3Flags() []cli.Flag {
	fs := mke3Flags()
	for _, f := range fs {
		if sf, ok := f.(*cli.StringFlag); ok {
			sf.Required = false
		}
	}
	return fs
}

// translateFlags are the flags of rbac translate and rbac apply.
func translateFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "from", Usage: "read the MKE 3 RBAC export `FILE` (from rbac export) instead of the MKE 3 API"},
		&cli.BoolFlag{Name: "structure-only", Usage: "make orgs, teams, memberships and Swarm roles only, no grant bindings (what mkectl does)"},
		&cli.StringFlag{Name: "collection-grants", Value: string(rbac.CollectionGrantsStructureOnly), Usage: "what grants on Swarm collections give: `MODE` structure-only or cluster-wide (widens access)"},
		&cli.StringSliceFlag{Name: "permission", Usage: "map a Swarm role to a ClusterRole, `ROLE=CLUSTERROLE` (empty: no permission); repeatable; replaces the default for that role"},
		&cli.StringSliceFlag{Name: "rename", Usage: "give an org, team or Swarm role another Kubernetes name, `org:ID=NAME`, team:ID=NAME or role:ID=NAME (the way out of a name collision); repeatable"},
		&cli.BoolFlag{Name: "include-inactive-users", Usage: "bind users who are inactive in MKE 3 too"},
		&cli.BoolFlag{Name: "skip-admins", Usage: "do not bind MKE 3 admins to cluster-admin"},
		&cli.StringFlag{Name: "report-out", Usage: "write the translation report to `FILE` instead of a summary on stderr"},
		&cli.StringFlag{Name: "report-format", Value: "text", Usage: "report `FORMAT`: text or json"},
	}, optionalMKE3Flags()...)
}

func rbacCommand() *cli.Command {
	return &cli.Command{
		Name:  "rbac",
		Usage: "carry MKE 3 orgs, teams, users and grants to Kubernetes RBAC",
		Description: `Orgs and teams become aggregated ClusterRoles (<org>-org, <team>-team), Swarm roles
rule-less ClusterRoles kept for structure, users are bound to their orgs and teams, and grants
on namespaces become RoleBindings of the mapped ClusterRole (viewonly/scheduler: view,
restrictedcontrol: edit, fullcontrol: admin). See the rbac package documentation.`,
		Subcommands: []*cli.Command{
			{
				Name:  "export",
				Usage: "read orgs, teams, users, roles and grants from the MKE 3 API into a JSON export",
				Flags: append(mke3Flags(),
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the export to `FILE` (atomically) instead of stdout"},
				),
				Action: runRBACExport,
			},
			{
				Name:  "translate",
				Usage: "print the Kubernetes RBAC objects for MKE 3's orgs, teams and grants (for review or GitOps)",
				Flags: append(translateFlags(),
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "yaml", Usage: "manifest `FORMAT`: yaml (a multi-document stream) or json (a v1 List)"},
					&cli.StringFlag{Name: "out", Usage: "write the manifests to `FILE` (atomically) instead of stdout"},
				),
				Action: runRBACTranslate,
			},
			{
				Name:  "apply",
				Usage: "translate and apply the RBAC objects to a Kubernetes cluster with server-side apply",
				Description: `Applies with field manager mke-migrate; applying again changes nothing. Objects of the same
name that mke-migrate did not create are refused unless --adopt. When an object fails, the
objects this run created are deleted again (unless --no-rollback), and the exit code is 1.`,
				Flags: append(translateFlags(),
					&cli.StringFlag{Name: "kubeconfig", EnvVars: []string{"KUBECONFIG"}, Usage: "the target cluster's kubeconfig `FILE`", Required: true},
					&cli.StringFlag{Name: "context", Usage: "kubeconfig `CONTEXT` (default: the current one)"},
					&cli.BoolFlag{Name: "dry-run", Usage: "send everything with server dry-run: validated and admitted, nothing stored"},
					&cli.BoolFlag{Name: "adopt", Usage: "take over existing objects of the same names that mke-migrate did not create"},
					&cli.BoolFlag{Name: "no-rollback", Usage: "keep what was created when some objects fail"},
					&cli.IntFlag{Name: "concurrency", Value: 8, Usage: "at most `N` requests at once"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "result `FORMAT`: text or json"},
				),
				Action: runRBACApply,
			},
		},
	}
}

func runRBACExport(c *cli.Context) error {
	if err := checkOutputs(c, false, "output"); err != nil {
		return err
	}
	client, err := mke3Client(c)
	if err != nil {
		return err
	}
	start := time.Now()
	m, err := fromapi.Read(c.Context, client, fromapi.Options{})
	if err != nil {
		return apiFailure(err)
	}
	data, err := rbac.EncodeExport(m)
	if err != nil {
		return failure(err)
	}
	if p := c.String("output"); p != "" && p != stdoutPath {
		if err := writeOutput(c, "output", data, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.App.ErrWriter, "exported %d users, %d orgs, %d teams, %d roles, %d grants to %s in %v\n",
			len(m.Users), len(m.Orgs), len(m.Teams), len(m.Roles), len(m.Grants), p, time.Since(start).Round(time.Millisecond))
		return nil
	}
	_, err = c.App.Writer.Write(data)
	return writeErr(err)
}

func writeErr(err error) error {
	if err != nil {
		return failure(fmt.Errorf("write output: %w", err))
	}
	return nil
}

// translateOptions maps the flags to rbac.Options.
func translateOptions(c *cli.Context) (rbac.Options, error) {
	o := rbac.Options{
		StructureOnly:        c.Bool("structure-only"),
		IncludeInactiveUsers: c.Bool("include-inactive-users"),
		SkipAdmins:           c.Bool("skip-admins"),
	}
	switch m := rbac.CollectionGrantsMode(c.String("collection-grants")); m {
	case rbac.CollectionGrantsStructureOnly, rbac.CollectionGrantsClusterWide:
		o.CollectionGrants = m
	default:
		return o, usagef("--collection-grants: %q is not structure-only or cluster-wide", m)
	}
	if ps := c.StringSlice("permission"); len(ps) > 0 {
		o.Permissions = rbac.DefaultPermissions()
		for _, p := range ps {
			role, cr, ok := strings.Cut(p, "=")
			if !ok || role == "" {
				return o, usagef("--permission %q: want ROLE=CLUSTERROLE", p)
			}
			o.Permissions[role] = cr
		}
	}
	for _, r := range c.StringSlice("rename") {
		key, name, ok := strings.Cut(r, "=")
		kind, id, _ := strings.Cut(key, ":")
		if !ok || name == "" || id == "" || (kind != "org" && kind != "team" && kind != "role") {
			return o, usagef("--rename %q: want org:ID=NAME, team:ID=NAME or role:ID=NAME", r)
		}
		if o.Rename == nil {
			o.Rename = map[string]string{}
		}
		o.Rename[key] = name
	}
	return o, nil
}

// loadModel reads the model from --from, or else from the MKE 3 API.
func loadModel(c *cli.Context) (*rbac.Model, error) {
	if p := c.String("from"); p != "" {
		if c.String("mke3-host") != "" {
			return nil, usagef("give --from or --mke3-host, not both")
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, usageErr(err)
		}
		m, err := rbac.DecodeExport(p, data)
		if err != nil {
			return nil, usageErr(err)
		}
		return m, nil
	}
	if c.String("mke3-host") == "" || c.String("mke3-admin-username") == "" {
		return nil, usagef("give --from FILE, or --mke3-host and --mke3-admin-username")
	}
	client, err := mke3Client(c)
	if err != nil {
		return nil, err
	}
	m, err := fromapi.Read(c.Context, client, fromapi.Options{})
	if err != nil {
		return nil, apiFailure(err)
	}
	return m, nil
}

// translate loads, translates and writes the report; a collision is a
// usage error (the input must be changed, or --rename given).
func translate(c *cli.Context) (*rbac.Objects, *rbac.Report, error) {
	format := c.String("report-format")
	if format != "text" && format != "json" {
		return nil, nil, usagef("--report-format: %q is not text or json", format)
	}
	opts, err := translateOptions(c)
	if err != nil {
		return nil, nil, err
	}
	m, err := loadModel(c)
	if err != nil {
		return nil, nil, err
	}
	objs, rep, err := rbac.Translate(m, opts)
	if err != nil {
		return nil, nil, usageErr(err)
	}
	var b bytes.Buffer
	if format == "json" {
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(&b)
	}
	if err != nil {
		return nil, nil, failure(err)
	}
	if p := c.String("report-out"); p != "" {
		if err := writeOutput(c, "report-out", b.Bytes(), 0o644); err != nil {
			return nil, nil, err
		}
	} else if _, err := c.App.ErrWriter.Write(b.Bytes()); err != nil {
		return nil, nil, failure(err)
	}
	return objs, rep, nil
}

func runRBACTranslate(c *cli.Context) error {
	format := c.String("output")
	if format != "yaml" && format != "json" {
		return usagef("--output: %q is not yaml or json", format)
	}
	// The manifests go to standard output without --out.
	if err := checkOutputs(c, c.String("out") == "", "out", "report-out"); err != nil {
		return err
	}
	objs, rep, err := translate(c)
	if err != nil {
		return err
	}
	data, err := rbac.Manifests(objs, format)
	if err != nil {
		return failure(err)
	}
	if c.String("out") != "" {
		if err := writeOutput(c, "out", data, 0o644); err != nil {
			return err
		}
	} else if _, err := c.App.Writer.Write(data); err != nil {
		return writeErr(err)
	}
	if rep.HasErrors() {
		return silentExit(exitBlocking)
	}
	return nil
}

type applyOutput struct {
	Apply    *kube.ApplyResult  `json:"apply"`
	Rollback *kube.DeleteResult `json:"rollback,omitempty"`
	Error    string             `json:"error,omitempty"`
}

func runRBACApply(c *cli.Context) error {
	format, log, err := outputFlags(c)
	if err != nil {
		return err
	}
	// The apply result goes to standard output.
	if err := checkOutputs(c, true, "report-out"); err != nil {
		return err
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.String("kubeconfig")
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: c.String("context")}).ClientConfig()
	if err != nil {
		return usagef("--kubeconfig %s: %w", c.String("kubeconfig"), err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return usageErr(err)
	}
	objs, rep, err := translate(c)
	if err != nil {
		return err
	}
	if rep.HasErrors() {
		return blocking(errors.New("the translation report has errors: nothing applied (fix the MKE 3 data, or review the report and apply the translate output yourself)"))
	}

	start := time.Now()
	dry := c.Bool("dry-run")
	res, aerr := kube.Apply(c.Context, cs, objs, kube.ApplyOptions{
		DryRun: dry, Adopt: c.Bool("adopt"), Concurrency: c.Int("concurrency"), Logger: log,
	})
	out := applyOutput{Apply: res}
	if aerr != nil && !dry && !c.Bool("no-rollback") && len(res.Created) > 0 {
		// Undo this run's creations; the signal context may be done, so
		// the rollback gets its own time.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), 2*time.Minute)
		defer cancel()
		del, derr := kube.Delete(ctx, cs, rbac.Select(objs, res.Created), kube.DeleteOptions{Concurrency: c.Int("concurrency"), Logger: log})
		out.Rollback = del
		if derr != nil {
			aerr = errors.Join(aerr, fmt.Errorf("rollback: %w", derr))
		}
	}
	if aerr != nil {
		out.Error = aerr.Error()
	}
	took := time.Since(start).Round(time.Millisecond)
	if format == "json" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return failure(err)
		}
		if err := fprintf(c.App.Writer, "%s\n", b); err != nil {
			return err
		}
	} else {
		mode := ""
		if dry {
			mode = " (dry run: nothing stored)"
		}
		if err := fprintf(c.App.Writer, "applied %d objects in %v%s: %d created, %d updated, %d unchanged\n",
			objs.Len(), took, mode, len(res.Created), len(res.Updated), len(res.Unchanged)); err != nil {
			return err
		}
		if d := out.Rollback; d != nil {
			if err := fprintf(c.App.Writer, "rolled back: %d created objects deleted, %d already gone, %d left (not ours)\n",
				len(d.Deleted), len(d.Missing), len(d.NotOwned)); err != nil {
				return err
			}
		}
	}
	if aerr != nil {
		if format == "json" {
			return silentExit(exitFailure)
		}
		return failure(aerr)
	}
	return nil
}
