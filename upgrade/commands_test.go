package upgrade

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/shell"
)

// assertCmd compares a built command with the exact string expected, in
// the manner of terraform-exec's tests: a change to any command of a step
// shows here, in milliseconds, before it reaches a node.
func assertCmd(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("command\n got: %s\nwant: %s", got, want)
	}
}

func TestCommands(t *testing.T) {
	const ready = 2 * time.Second
	hostile := "/var/lib/it's $(reboot)"
	for _, tc := range []struct {
		name, got, want string
	}{
		{"backup", backupCmd("/var/lib/mke-migrate", "", "docker run ucp backup", "/var/lib/mke-migrate/mke3-backup.tar", ""),
			"set -e\numask 077\nmkdir -p '/var/lib/mke-migrate'\nchmod 700 '/var/lib/mke-migrate'\n" +
				"docker run ucp backup > '/var/lib/mke-migrate/mke3-backup.tar'.part\n" +
				"mv '/var/lib/mke-migrate/mke3-backup.tar'.part '/var/lib/mke-migrate/mke3-backup.tar'\nsha256sum '/var/lib/mke-migrate/mke3-backup.tar'"},
		{"backup, hostile state dir", backupCmd(hostile, "", "b", backupPath(hostile+"/"), ""),
			"set -e\numask 077\nmkdir -p '/var/lib/it'\\''s $(reboot)'\nchmod 700 '/var/lib/it'\\''s $(reboot)'\n" +
				"b > '/var/lib/it'\\''s $(reboot)/mke3-backup.tar'.part\n" +
				"mv '/var/lib/it'\\''s $(reboot)/mke3-backup.tar'.part '/var/lib/it'\\''s $(reboot)/mke3-backup.tar'\nsha256sum '/var/lib/it'\\''s $(reboot)/mke3-backup.tar'"},
		{"backup, encrypted", backupCmd("/s", "", "b", "/s/mke3-backup.tar", "enc"),
			"set -e\numask 077\nmkdir -p '/s'\nchmod 700 '/s'\nIFS= read -r MKE_MIGRATE_BACKUP_PASSPHRASE\nexport MKE_MIGRATE_BACKUP_PASSPHRASE\n" +
				"{ set +e; b; echo $? > '/s/mke3-backup.tar'.status; } | enc > '/s/mke3-backup.tar'.part\n" +
				"st=$(cat '/s/mke3-backup.tar'.status); rm -f '/s/mke3-backup.tar'.status; [ \"$st\" = 0 ] || { echo \"backup failed (exit $st)\" >&2; exit 1; }\n" +
				"mv '/s/mke3-backup.tar'.part '/s/mke3-backup.tar'\nsha256sum '/s/mke3-backup.tar'"},
		{"backup, image looked for first", backupCmd("/s", "mirantis/ucp:3.8.8", "b", "/s/mke3-backup.tar", ""),
			"set -e\numask 077\nmkdir -p '/s'\nchmod 700 '/s'\n" +
				"docker image inspect --format '{{.Id}}' mirantis/ucp:3.8.8 </dev/null >/dev/null 2>&1 || docker pull -q mirantis/ucp:3.8.8 </dev/null >/dev/null 2>&1 || " +
				"{ echo 'the MKE 3 image mirantis/ucp:3.8.8 is not on this node and cannot be pulled: load it with docker load -i <archive with mirantis/ucp:3.8.8> (MKE 3'\\''s offline bundle has it), then run the upgrade again' >&2; exit 1; }\n" +
				"b > '/s/mke3-backup.tar'.part\nmv '/s/mke3-backup.tar'.part '/s/mke3-backup.tar'\nsha256sum '/s/mke3-backup.tar'"},
		{"backup remove", backupRemoveCmd("/s", "/s/mke3-backup.tar"), "rm -f '/s/mke3-backup.tar' '/s/mke3-backup.tar'.part '/s/mke3-backup.tar'.status; rmdir '/s' 2>/dev/null; true"},
		{"expand", expand(Commands{}.withDefaults().Backup, "mirantis/ucp:3.7.5", "abc123", ""),
			"docker run --rm -i --name ucp-backup --log-driver none -v /var/run/docker.sock:/var/run/docker.sock mirantis/ucp:3.7.5 backup --id abc123 --no-passphrase"},
		{"expand, hostile discovery", expand("x {image} --id {cluster} {node}", "ucp:3.7;reboot", "a b", "n1 n2"),
			"x 'ucp:3.7;reboot' --id 'a b' n1 n2"},
		{"docker stop", dockerStopCmd([]string{"ucp-kubelet", "ucp-kube-proxy"}), "docker stop ucp-kubelet ucp-kube-proxy"},
		{"docker start, hostile name", dockerStartCmd([]string{"ucp-x;reboot"}), "docker start 'ucp-x;reboot'"},
		{"k0s save", k0sSaveCmd("/var/lib/mke-migrate", "/usr/local/bin/k0s", "/etc/k0s", nil),
			"mkdir -p '/var/lib/mke-migrate'; [ -e '/etc/k0s' ] || : > '/var/lib/mke-migrate/k0s-dir.made'; if [ -e '/var/lib/mke-migrate/k0s.orig' ] || [ -L '/var/lib/mke-migrate/k0s.orig' ]; then echo saved; elif [ -e '/var/lib/mke-migrate/k0s.none' ]; then echo none; " +
				"elif [ -e '/usr/local/bin/k0s' ] || [ -L '/usr/local/bin/k0s' ]; then cp -P '/usr/local/bin/k0s' '/var/lib/mke-migrate/k0s.orig' && echo saved; else : > '/var/lib/mke-migrate/k0s.none' && echo none; fi"},
		{"k0s save, CNI files kept", k0sSaveCmd("/s", "/k0s", "/etc/k0s", []string{"/etc/cni/net.d/calico-kubeconfig", "/x/it's"}),
			"mkdir -p '/s'; [ -e '/etc/k0s' ] || : > '/s/k0s-dir.made'; " +
				"if [ -e '/etc/cni/net.d/calico-kubeconfig' ] && [ ! -e '/s/keep/etc/cni/net.d/calico-kubeconfig' ]; then mkdir -p '/s/keep/etc/cni/net.d' && cp -a '/etc/cni/net.d/calico-kubeconfig' '/s/keep/etc/cni/net.d/calico-kubeconfig'.part && mv '/s/keep/etc/cni/net.d/calico-kubeconfig'.part '/s/keep/etc/cni/net.d/calico-kubeconfig'; fi; " +
				"if [ -e '/x/it'\\''s' ] && [ ! -e '/s/keep/x/it'\\''s' ]; then mkdir -p '/s/keep/x' && cp -a '/x/it'\\''s' '/s/keep/x/it'\\''s'.part && mv '/s/keep/x/it'\\''s'.part '/s/keep/x/it'\\''s'; fi; " +
				"if [ -e '/s/k0s.orig' ] || [ -L '/s/k0s.orig' ]; then echo saved; elif [ -e '/s/k0s.none' ]; then echo none; " +
				"elif [ -e '/k0s' ] || [ -L '/k0s' ]; then cp -P '/k0s' '/s/k0s.orig' && echo saved; else : > '/s/k0s.none' && echo none; fi"},
		{"k0s restore, there was one", k0sRestoreCmd("/s/", "/k0s", "/etc/k0s", false, nil),
			"if [ -e '/s/k0s.orig' ] || [ -L '/s/k0s.orig' ]; then rm -f '/k0s' && mv '/s/k0s.orig' '/k0s'; elif [ -e '/s/k0s.none' ]; then rm -f '/k0s'; fi; rm -f '/s/k0s.none'; " +
				"if [ -e '/s/k0s-dir.made' ]; then rmdir '/etc/k0s' 2>/dev/null; rm -f '/s/k0s-dir.made'; fi; rmdir '/s/' 2>/dev/null; true"},
		{"k0s restore, there was none", k0sRestoreCmd("/s", "/k 0s", "/etc/k0s", true, nil),
			"if [ -e '/s/k0s.orig' ] || [ -L '/s/k0s.orig' ]; then rm -f '/k 0s' && mv '/s/k0s.orig' '/k 0s'; else rm -f '/k 0s'; fi; rm -f '/s/k0s.none'; " +
				"if [ -e '/s/k0s-dir.made' ]; then rmdir '/etc/k0s' 2>/dev/null; rm -f '/s/k0s-dir.made'; fi; rmdir '/s' 2>/dev/null; true"},
		{"k0s restore, CNI files back", k0sRestoreCmd("/s", "/k0s", "/etc/k0s", false, []string{"/etc/cni/net.d/10-calico.conflist"}),
			"if [ -e '/s/k0s.orig' ] || [ -L '/s/k0s.orig' ]; then rm -f '/k0s' && mv '/s/k0s.orig' '/k0s'; elif [ -e '/s/k0s.none' ]; then rm -f '/k0s'; fi; rm -f '/s/k0s.none'; " +
				"if [ -e '/s/keep/etc/cni/net.d/10-calico.conflist' ]; then mkdir -p '/etc/cni/net.d' && mv -f '/s/keep/etc/cni/net.d/10-calico.conflist' '/etc/cni/net.d/10-calico.conflist'; fi; " +
				"find '/s/keep' -depth -type d -empty -delete 2>/dev/null; " +
				"if [ -e '/s/k0s-dir.made' ]; then rmdir '/etc/k0s' 2>/dev/null; rm -f '/s/k0s-dir.made'; fi; rmdir '/s' 2>/dev/null; true"},
		{"token", tokenCreateCmd("worker", "2h"), "k0s token create --role worker --expiry 2h"},
		{"token, hostile expiry", tokenCreateCmd("controller", "2h; cat /etc/shadow"), "k0s token create --role controller --expiry '2h; cat /etc/shadow'"},
		{"mkdir", mkdirCmd("/etc/k0s"), "mkdir -p '/etc/k0s'"},
		{"install args, first controller", strings.Join(installArgs("controller", "/etc/k0s", "/etc/k0s/join-token", false, ""), " "),
			"k0s install controller -c /etc/k0s/k0s.yaml --enable-worker"},
		{"install args, joining worker with profile", strings.Join(installArgs("worker", "/etc/k0s", "/etc/k0s/join-token", true, "high mem"), " "),
			"k0s install worker --token-file /etc/k0s/join-token --profile=high mem"},
		{"install script, first controller", installScript(installArgs("controller", "/etc/k0s", "/etc/k0s/join-token", false, ""), "/etc/k0s", "/etc/k0s/join-token", false, ready, "", ""),
			"set -e\nT='/etc/k0s/join-token'\ntrap 'rm -f \"$T\"' EXIT\nmkdir -p '/etc/k0s'\n" +
				"k0s install controller -c /etc/k0s/k0s.yaml --enable-worker || " + k0sInstalled + "\nk0s start || k0s status >/dev/null 2>&1\n" +
				"i=0; until k0s status >/dev/null 2>&1; do i=$((i+1)); if [ $i -ge 11 ]; then echo 'k0s did not become ready after 2s' >&2; exit 1; fi; sleep 0.2; done\n"},
		{"install script, joining worker", installScript(installArgs("worker", "/etc/k0s", "/etc/k0s/join-token", true, "a'b"), "/etc/k0s", "/etc/k0s/join-token", true, ready, "CHECK", "WAIT"),
			"set -e\nT='/etc/k0s/join-token'\ntrap 'rm -f \"$T\"' EXIT\nCHECK\nmkdir -p '/etc/k0s'\n(umask 077; cat > \"$T\")\n" +
				"k0s install worker --token-file /etc/k0s/join-token '--profile=a'\\''b' || " + k0sInstalled + "\nk0s start || k0s status >/dev/null 2>&1\n" +
				"i=0; until k0s status >/dev/null 2>&1; do i=$((i+1)); if [ $i -ge 11 ]; then echo 'k0s did not become ready after 2s' >&2; exit 1; fi; sleep 0.2; done\nWAIT\n"},
		{"reset, controller", resetCmd("/etc/k0s", true),
			"if command -v k0s >/dev/null 2>&1 && " + k0sInstalled + "; then k0s stop >/dev/null 2>&1; k0s reset; fi; rm -f '/etc/k0s/join-token' '/etc/k0s/k0s.yaml' '/etc/k0s/audit-policy.yaml' '/etc/k0s/admission-control.yaml' '/etc/k0s/event-rate-limit.yaml'; true"},
		{"reset, worker", resetCmd("/etc/k0s", false),
			"if command -v k0s >/dev/null 2>&1 && " + k0sInstalled + "; then k0s stop >/dev/null 2>&1; k0s reset; fi; rm -f '/etc/k0s/join-token'; true"},
		{"node names, hostile", nodeNames([]string{"worker-1", "w 2", "$(reboot)", ""}), "worker-1 'w 2' '$(reboot)' ''"},
		{"node ready", nodeReadyScript(expand(Commands{}.withDefaults().NodeReady, "i", "c", nodeNames([]string{"worker-1"})), "worker-1", 5*time.Minute),
			`i=0; until [ "$(env KUBECONFIG=/var/lib/k0s/kubelet.conf k0s kubectl get node worker-1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do i=$((i+1)); if [ $i -ge 601 ]; then echo 'node worker-1 not Ready after 5m0s' >&2; exit 1; fi; sleep 0.5; done`},
		{"uninstall", uninstallCmd("docker run ucp uninstall-ucp"), `docker run ucp uninstall-ucp 2>&1; echo "mke-migrate-exit=$?"`},
		{"volumes", volumesCmd([]string{"ucp-controller-server-certs", "a b"}),
			`ids=$(docker ps -aq --filter 'name=^/?ucp-'); [ -z "$ids" ] || docker rm -f $ids >/dev/null && docker volume rm --force ucp-controller-server-certs 'a b'`},
	} {
		t.Run(tc.name, func(t *testing.T) { assertCmd(t, tc.got, tc.want) })
	}
}

func TestToStop(t *testing.T) {
	prefixes := Commands{}.withDefaults().StopContainers
	keep := []string{"ucp-kv"}
	const agent = "ucp-worker-agent-x.8k0z0w1cwe8xssxtjl75bcom6.hlfhyebkaij506nceubnp80jm"
	for _, tc := range []struct {
		running []string
		prev    string
		want    []string
	}{
		{[]string{"ucp-kube-proxy", "k8s_calico-node_x", "ucp-kubelet", "ucp-kv", "ucp-proxy", agent, "other"},
			"", []string{agent, "ucp-kubelet", "ucp-kube-proxy", "ucp-proxy", "k8s_calico-node_x"}},
		// an earlier try stopped the agent already: it stays in the list
		{[]string{"ucp-kubelet"}, agent, []string{"ucp-kubelet", agent}},
		{nil, "", nil},
	} {
		if got := toStop(tc.running, prefixes, keep, tc.prev); !slices.Equal(got, tc.want) {
			t.Errorf("toStop(%v, %q) = %v, want %v", tc.running, tc.prev, got, tc.want)
		}
	}
	tasks, others := splitTasks([]string{agent, "ucp-manager-agent.x.y", "ucp-kubelet"})
	if !slices.Equal(tasks, []string{agent}) || !slices.Equal(others, []string{"ucp-manager-agent.x.y", "ucp-kubelet"}) {
		t.Errorf("splitTasks: %v %v", tasks, others)
	}
	assertCmd(t, stopCmd([]string{"ucp-kubelet", agent, "k8s_a"}), "docker stop "+agent+" && docker stop ucp-kubelet k8s_a")
	assertCmd(t, stopCmd([]string{"ucp-kubelet"}), "docker stop ucp-kubelet")
}

func TestAvailability(t *testing.T) {
	m := parseAvailability("id1 Active\nid2 Drain\n\nbad\n")
	if len(m) != 2 || m["id1"] != "active" || m["id2"] != "drain" {
		t.Fatalf("parse: %v", m)
	}
	enc := encodeAvailability(m)
	if enc != "id1=active,id2=drain" {
		t.Fatalf("encode: %q", enc)
	}
	back, ids := decodeAvailability(enc)
	if !slices.Equal(ids, []string{"id1", "id2"}) || back["id2"] != "drain" {
		t.Fatalf("decode: %v %v", back, ids)
	}
	assertCmd(t, availabilityCmd(map[string]string{"a": "drain", "b;x": "active", "c": "drain"}, []string{"a", "b;x", "c"}),
		"rc=0; printf '%s\\n' a c | xargs -n 1 -P 8 docker node update --availability drain >/dev/null || rc=1; "+
			"printf '%s\\n' 'b;x' | xargs -n 1 -P 8 docker node update --availability active >/dev/null || rc=1; [ $rc = 0 ]")
	assertCmd(t, availabilityCmd(map[string]string{"a": "drain"}, []string{"a"}),
		"printf '%s\\n' a | xargs -n 1 -P 8 docker node update --availability drain >/dev/null")
}

func TestUninstallOutcome(t *testing.T) {
	for _, tc := range []struct {
		out, body, status string
		timedOut          bool
	}{
		{"removed\nmke-migrate-exit=0", "removed\n", "0", false},
		{"level=fatal msg=\"Uninstalling UCP took too long\"\nmke-migrate-exit=1", "level=fatal msg=\"Uninstalling UCP took too long\"\n", "1", true},
		{"boom\nmke-migrate-exit=125\n", "boom\n", "125", false},
		{"no marker", "no marker", "", false},
	} {
		body, status, timedOut := uninstallOutcome(tc.out, "Uninstalling UCP took too long")
		if body != tc.body || status != tc.status || timedOut != tc.timedOut {
			t.Errorf("%q: %q %q %v", tc.out, body, status, timedOut)
		}
	}
}

func TestBatches(t *testing.T) {
	ws := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	for _, tc := range []struct {
		pct  int
		want []int
	}{{10, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}, {20, []int{2, 2, 2, 2, 2, 1}}, {50, []int{5, 5, 1}}, {100, []int{11}}} {
		var got []int
		for _, b := range batches(ws, tc.pct) {
			got = append(got, len(b))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%d%%: %v, want %v", tc.pct, got, tc.want)
		}
	}
	if len(batches(nil, 10)) != 0 {
		t.Error("batches of no workers")
	}
}

// FuzzAvailability: any docker node ls output parses without panic, and
// what it parses survives the step data's encoding.
func FuzzAvailability(f *testing.F) {
	f.Add("id1 Active\nid2 Drain\n")
	f.Add("\n \t x\n")
	f.Fuzz(func(t *testing.T, out string) {
		m := parseAvailability(out)
		for id, a := range m {
			if strings.ContainsAny(id+a, ",=") {
				return // not a Swarm ID or availability: docker prints none
			}
		}
		back, ids := decodeAvailability(encodeAvailability(m))
		if len(m) > 0 && (len(back) != len(m) || len(ids) != len(m)) {
			t.Fatalf("%q: %v → %v", out, m, back)
		}
		for id, a := range m {
			if back[id] != a {
				t.Fatalf("%q: %s=%s → %s", out, id, a, back[id])
			}
		}
	})
}

// The save of an existing k0s, the move of the staged binary and the
// restore, run by sh on real files: a retry after the staged binary
// replaced k0s (its answer lost) must not take it for the original.
func TestK0sSaveActivateRestore(t *testing.T) {
	sh := func(t *testing.T, cmd string) string {
		t.Helper()
		out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	newBin := []byte("#!/bin/sh\necho new k0s\n")
	sum := sha256.Sum256(newBin)
	want := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name string
		orig []byte // nil: no k0s before
	}{{"no k0s before", nil}, {"a k0s before", []byte("old k0s")}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			state, k0s, k0sDir := filepath.Join(dir, "state"), filepath.Join(dir, "bin", "k0s"), filepath.Join(dir, "etc", "k0s")
			cni := filepath.Join(dir, "cni", "10-calico.conflist")
			for _, d := range []string{state, filepath.Dir(k0s), filepath.Dir(cni)} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(cni, []byte("calico"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.orig != nil {
				if err := os.WriteFile(k0s, tc.orig, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(state, stagedName), newBin, 0o700); err != nil {
				t.Fatal(err)
			}
			keep := []string{cni}
			saveAndMove := k0sSaveCmd(state, k0s, k0sDir, keep) + " && sh -c " + shell.Quote(k0sActivateScript(state, k0s, want))
			had := "saved"
			if tc.orig == nil {
				had = "none"
			}
			if got := sh(t, saveAndMove); got != had+"\nstaged" {
				t.Fatalf("first try printed %q", got)
			}
			if b, _ := os.ReadFile(k0s); string(b) != string(newBin) {
				t.Fatalf("k0s is %q", b)
			}
			if _, err := os.Stat(filepath.Join(state, stagedName)); !os.IsNotExist(err) {
				t.Fatalf("the staged binary is still there: %v", err)
			}
			// the answer was lost: the retry says the same, with nothing staged
			if got := sh(t, saveAndMove); got != had+"\nmissing" {
				t.Fatalf("retry printed %q", got)
			}
			_ = os.Remove(cni) // as k0s reset does
			// the undo does not know what the save said (none=false)
			sh(t, k0sRestoreCmd(state, k0s, k0sDir, false, keep))
			b, err := os.ReadFile(k0s)
			switch {
			case tc.orig == nil && !os.IsNotExist(err):
				t.Fatalf("the run's k0s stayed: %q, %v", b, err)
			case tc.orig != nil && string(b) != string(tc.orig):
				t.Fatalf("k0s is %q, want the original", b)
			}
			if b, _ := os.ReadFile(cni); string(b) != "calico" {
				t.Fatalf("Calico's file is %q", b)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Fatalf("the state folder is left: %v", err)
			}
		})
	}
	t.Run("a staged binary of another checksum", func(t *testing.T) {
		dir := t.TempDir()
		staged := filepath.Join(dir, stagedName)
		if err := os.WriteFile(staged, []byte("truncated"), 0o700); err != nil {
			t.Fatal(err)
		}
		if got := sh(t, k0sActivateScript(dir, filepath.Join(dir, "k0s"), want)); got != "missing" {
			t.Fatalf("printed %q", got)
		}
		if _, err := os.Stat(staged); !os.IsNotExist(err) {
			t.Fatalf("the wrong staged binary is still there: %v", err)
		}
	})
	// what is not ours is never replaced: a folder, or a file neither
	// saved (k0s.orig) nor found absent by the save (k0s.none)
	for _, tc := range []struct {
		name string
		make func(k string) error
	}{
		{"a folder at the k0s path", func(k string) error { return os.Mkdir(k, 0o755) }},
		{"an unsaved file at the k0s path", func(k string) error { return os.WriteFile(k, []byte("theirs"), 0o755) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			state, k := filepath.Join(dir, "state"), filepath.Join(dir, "k0s")
			if err := os.MkdirAll(state, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(state, stagedName), newBin, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(k); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("sh", "-c", k0sActivateScript(state, k, want)).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitNotOurs {
				t.Fatalf("want exit %d, got %v: %s", exitNotOurs, err, out)
			}
			if !strings.Contains(string(out), "not replaced") {
				t.Errorf("the refusal does not say why: %s", out)
			}
			if fi, err := os.Lstat(k); err != nil {
				t.Fatal(err)
			} else if !fi.IsDir() {
				if b, _ := os.ReadFile(k); string(b) != "theirs" {
					t.Fatalf("the file at the k0s path is now %q", b)
				}
			}
			if ms, _ := filepath.Glob(filepath.Join(dir, k0sTempPrefix+"*")); len(ms) > 0 {
				t.Fatalf("temporary files left: %v", ms)
			}
		})
	}
}

// availabilityCmd run by sh with a docker that logs its arguments: every
// node is updated once, and one failed update fails the command after
// the others ran.
func TestAvailabilityCmdRuns(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	docker := "#!/bin/sh\necho \"$*\" >> " + shell.Quote(log) + "\n[ \"$5\" != bad ] || { echo 'Error response from daemon: node bad not found' >&2; exit 1; }\n"
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(docker), 0o755); err != nil {
		t.Fatal(err)
	}
	avail := map[string]string{"bad": "drain"}
	var ids []string
	for i := range 20 {
		id := fmt.Sprintf("n%02d", i)
		avail[id], ids = "drain", append(ids, id)
	}
	avail["n03"], avail["n07"] = "active", "pause"
	run := func(ids []string) error {
		cmd := exec.Command("sh", "-c", availabilityCmd(avail, ids))
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil && !strings.Contains(string(out), "node bad not found") {
			t.Errorf("the failure does not say why: %s", out)
		}
		return err
	}
	if err := run(ids); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(lines)
	var want []string
	for _, id := range ids {
		want = append(want, "node update --availability "+avail[id]+" "+id)
	}
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Fatalf("docker ran\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	_ = os.Remove(log)
	if err := run(append([]string{"bad"}, ids...)); err == nil {
		t.Fatal("a failed update did not fail the command")
	}
	if b, _ := os.ReadFile(log); strings.Count(string(b), "\n") != len(ids)+1 {
		t.Fatalf("not every node was updated after the failure:\n%s", b)
	}
}

// The model of stopScript, which runs on the node: the decision of the
// engine before list and stop became one remote command.

// toStop are the containers to stop: the running ones whose names start
// with one of prefixes, in the order of prefixes, but not those of keep,
// then any that an earlier, interrupted try stopped already (prev,
// comma-separated).
func toStop(running, prefixes, keep []string, prev string) []string {
	var stop []string
	for _, prefix := range prefixes {
		for _, n := range running {
			if strings.HasPrefix(n, prefix) && !slices.Contains(stop, n) && !slices.Contains(keep, n) {
				stop = append(stop, n)
			}
		}
	}
	if prev != "" {
		for _, n := range strings.Split(prev, ",") {
			if !slices.Contains(stop, n) {
				stop = append(stop, n)
			}
		}
	}
	return stop
}

func dockerStopCmd(names []string) string { return "docker stop " + shell.Join(names...) }

// stopCmd stops the Swarm tasks first (the agents: they would start the
// rest again), then the others in their order, in one remote command.
func stopCmd(names []string) string {
	tasks, others := splitTasks(names)
	var cmds []string
	if len(tasks) > 0 {
		cmds = append(cmds, dockerStopCmd(tasks))
	}
	if len(others) > 0 {
		cmds = append(cmds, dockerStopCmd(others))
	}
	return strings.Join(cmds, " && ")
}

// stopScript run by sh against a docker of the test's (ps prints the
// running list; stop records its arguments, stops them, or fails), held
// to the model: the list it keeps on the node and prints is toStop's,
// the stops are stopCmd's, and a stop cut off leaves the list on the node
// for the undo and the retry.
func TestStopScript(t *testing.T) {
	prefixes := Commands{}.withDefaults().StopContainers
	keep := []string{"ucp-kv"}
	const agent = "ucp-worker-agent-x.8k0z0w1cwe8xssxtjl75bcom6.hlfhyebkaij506nceubnp80jm"
	const mgr = "ucp-manager-agent.0123456789abcdefghijklmno.pqrstuvwxyz0123456789abcd"
	dir := t.TempDir()
	bin, state := filepath.Join(dir, "bin"), filepath.Join(dir, "state")
	running, log := filepath.Join(dir, "running"), filepath.Join(dir, "stops")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// docker ps --filter status=running --format '{{.Names}}' / docker stop NAME...
	docker := `#!/bin/sh
case "$1" in
ps) cat ` + shell.Quote(running) + `;;
stop) shift; [ ! -e ` + shell.Quote(dir+"/fail") + ` ] || { echo "injected" >&2; exit 1; }
  echo "$*" >> ` + shell.Quote(log) + `
  for n in "$@"; do grep -vx "$n" ` + shell.Quote(running) + ` > ` + shell.Quote(running+".new") + ` || true; mv ` + shell.Quote(running+".new") + " " + shell.Quote(running) + `; echo "$n"; done;;
*) exit 2;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(docker), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, prev []string) (string, error) {
		t.Helper()
		cmd := exec.Command("sh", "-c", stopScript(state, prefixes, keep, prev))
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	reset := func(t *testing.T, names ...string) {
		t.Helper()
		_ = os.RemoveAll(state)
		_ = os.Remove(log)
		_ = os.Remove(filepath.Join(dir, "fail"))
		if err := os.WriteFile(running, []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string { b, _ := os.ReadFile(p); return strings.TrimSpace(string(b)) }
	for _, tc := range []struct {
		name    string
		running []string
		prev    string
	}{
		{"a manager", []string{"ucp-kube-proxy", "k8s_calico-node_x", "ucp-kubelet", "ucp-kv", "ucp-proxy", mgr, "ucp-manager-agent.x.y", "other"}, ""},
		{"a worker", []string{"ucp-kubelet", agent, "k8s_POD_a_b_c_0", "k8s_app_a_b_c_0"}, ""},
		{"an earlier try stopped the agent", []string{"ucp-kubelet"}, agent},
		{"nothing to stop", []string{"other", "ucp-kv"}, ""},
		{"nothing running", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reset(t, tc.running...)
			var prev []string
			if tc.prev != "" {
				prev = strings.Split(tc.prev, ",")
			}
			want := toStop(tc.running, prefixes, keep, tc.prev)
			out, err := run(t, prev)
			if err != nil {
				t.Fatal(err)
			}
			if out != strings.Join(want, " ") {
				t.Errorf("printed %q, want %q", out, strings.Join(want, " "))
			}
			if got := read(filepath.Join(state, stoppedName)); got != strings.Join(want, "\n") {
				t.Errorf("kept list %q, want %q", got, want)
			}
			wantStops := ""
			if len(want) > 0 {
				wantStops = strings.ReplaceAll(strings.ReplaceAll(stopCmd(want), "docker stop ", ""), " && ", "\n")
			}
			if got := read(log); got != wantStops {
				t.Errorf("stops %q, want %q", got, wantStops)
			}
		})
	}
	t.Run("a stop cut off between its halves", func(t *testing.T) {
		reset(t, "ucp-kubelet", agent, "k8s_app_a_b_c_0")
		if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := run(t, nil); err == nil {
			t.Fatal("the failed stop did not fail the command")
		}
		// listed before anything stopped: the undo starts these
		want := []string{agent, "ucp-kubelet", "k8s_app_a_b_c_0"}
		if got := read(filepath.Join(state, stoppedName)); got != strings.Join(want, "\n") {
			t.Fatalf("kept list %q, want %q", got, want)
		}
		// the retry, its journal empty, finds the agent stopped meanwhile
		// (by hand, say) and still lists it, from the node
		_ = os.Remove(filepath.Join(dir, "fail"))
		if err := os.WriteFile(running, []byte("ucp-kubelet\nk8s_app_a_b_c_0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out != "ucp-kubelet k8s_app_a_b_c_0 "+agent {
			t.Fatalf("retry printed %q", out)
		}
	})
}

// installScript run by sh against a k0s and a systemctl of the test's,
// which answer as k0s does (cmd/install: "Init already exists" for an
// installed service; cmd/start via pkg/install StartInstalledService:
// "already running"; k0s status fails while k0s does not run): a retry
// that finds k0s installed and running, or installed and stopped, ends
// as the first try, and a start that fails for another reason fails.
func TestInstallScriptRetries(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	d := shell.Quote(dir)
	k0s := `#!/bin/sh
case "$1" in
install) [ ! -e ` + d + `/installed ] || { echo "Error: failed to install k0s service: Init already exists: /etc/systemd/system/k0sworker.service" >&2; exit 1; }; : > ` + d + `/installed;;
start) [ ! -e ` + d + `/broken ] || { echo "Error: failed to start" >&2; exit 1; }
  [ ! -e ` + d + `/running ] || { echo "Error: already running" >&2; exit 1; }; : > ` + d + `/running;;
status) [ -e ` + d + `/running ];;
*) exit 2;;
esac
`
	// systemctl is-enabled UNIT: the unit file's state on stdout, or nothing
	systemctl := "#!/bin/sh\n[ -e " + d + "/installed ] && [ \"$2\" = k0sworker.service ] && echo enabled || exit 1\n"
	for name, body := range map[string]string{"k0s": k0s, "systemctl": systemctl} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := installScript(installArgs("worker", filepath.Join(dir, "etc"), filepath.Join(dir, "etc", "join-token"), false, ""),
		filepath.Join(dir, "etc"), filepath.Join(dir, "etc", "join-token"), false, 2*time.Second, "", "echo node ready")
	run := func(t *testing.T) (string, error) {
		t.Helper()
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.Output()
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			err = fmt.Errorf("%w: %s", err, xe.Stderr)
		}
		return strings.TrimSpace(string(out)), err
	}
	set := func(t *testing.T, marks ...string) {
		t.Helper()
		for _, m := range []string{"installed", "running", "broken"} {
			_ = os.Remove(filepath.Join(dir, m))
		}
		for _, m := range marks {
			if err := os.WriteFile(filepath.Join(dir, m), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		marks []string
		ok    bool
	}{
		{"first try", nil, true},
		{"retry, k0s installed and running", []string{"installed", "running"}, true},
		{"retry, k0s installed, not started", []string{"installed"}, true},
		{"k0s start fails", []string{"broken"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set(t, tc.marks...)
			out, err := run(t)
			if tc.ok && (err != nil || out != "node ready") {
				t.Fatalf("printed %q, %v", out, err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("succeeded, printed %q", out)
			}
		})
	}
}
