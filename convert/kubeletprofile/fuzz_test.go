package kubeletprofile

import (
	"testing"

	"github.com/mke-migrate/mke-migrate/convert/flagparse"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// FuzzMapString checks the Map contract on arbitrary profiles: no panic, one
// FlagResult per parsed flag, and Values that marshal to JSON and decode
// strictly into the real KubeletConfiguration type.
func FuzzMapString(f *testing.F) {
	for _, s := range []string{
		benchProfile,
		"--kube-reserved=cpu=200m,memory=512Mi --kube-reserved-cgroup=/high",
		"--kube-reserved=cpu=100m,memory=256Mi --kube-reserved-cgroup=/low",
		`--eviction-hard=memory.available<100Mi,nodefs.available<10% --eviction-soft="memory.available<300Mi" ` +
			`--eviction-soft-grace-period=memory.available=1m30s --eviction-minimum-reclaim=imagefs.available=2Gi`,
		"--reserved-memory 0:memory=1Gi,hugepages-2Mi=2Gi;1:memory=2Gi --memory-manager-policy=Static",
		"--register-with-taints=dedicated=gpu:NoSchedule,maint:NoExecute --register-node",
		"--feature-gates=A=true,B=false --feature-gates=A=false --max-pods=110 --max-pods=250",
		"--oom-score-adj -999 -v 4 --vmodule=server*=4 --log-flush-frequency=5s",
		"--cpu-manager-policy=static --cpu-manager-policy-options=full-pcpus-only=true --reserved-cpus=0-1",
		"--topology-manager-policy=single-numa-node --topology-manager-scope=pod --qos-reserved=memory=50%",
		"--anonymous-auth=false --authentication-token-webhook --authorization-mode=Webhook --client-ca-file=/ca.crt",
		"--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 --tls-min-version=VersionTLS12",
		"--manifest-url-header=A:1,B:2 --cluster-dns=10.96.0.10 --cluster-dns=10.96.0.11",
		"--node-ip=10.0.0.1 --node-labels=a=b --experimental-x --bogus --max-pods=abc --runonce",
		"--max-pods",
		"--kube-reserved==,,=",
		"--eviction-hard=<",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, profile string) {
		r, err := MapString(profile)
		if err != nil {
			return
		}
		flags, err := flagparse.ParseString(profile)
		if err != nil {
			t.Fatalf("MapString accepted what ParseString rejects: %v", err)
		}
		if len(r.Flags) != len(flags) {
			t.Fatalf("%d flag results for %d flags", len(r.Flags), len(flags))
		}
		if r.Values == nil {
			t.Fatal("nil Values")
		}
		for i, fr := range r.Flags {
			if fr.Flag != flags[i].Raw || fr.Name != flags[i].Name {
				t.Fatalf("result %d is for %q, want %q", i, fr.Flag, flags[i].Raw)
			}
			switch fr.Status {
			case Converted:
				if fr.Field == "" {
					t.Fatalf("converted flag %q without a field", fr.Flag)
				}
			case Unconvertible, Overridden:
				if fr.Reason == "" {
					t.Fatalf("unconvertible flag %q without a reason", fr.Flag)
				}
			default:
				t.Fatalf("unknown status %q", fr.Status)
			}
		}
		decodeStrict(t, r.Values)
		cfg := mke4.Default()
		cfg.Spec.Kubelet.CustomProfiles = []mke4.KubeletCustomProfile{{Name: "p", Values: r.Values}}
		if _, err := mke4.Marshal(cfg); err != nil {
			t.Fatalf("Values do not marshal into mke4.yaml: %v", err)
		}
	})
}

// FuzzMapFlag drives the value parsers directly: any known flag name with
// any value (spaces and quotes included, which MapString rarely produces)
// must give one FlagResult and Values that decode strictly.
func FuzzMapFlag(f *testing.F) {
	for _, c := range validCases {
		flags, err := flagparse.ParseList([]string{c.in})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(flags[0].Name, flags[0].Value, flags[0].HasValue)
	}
	f.Fuzz(func(t *testing.T, name, value string, hasValue bool) {
		if !hasValue {
			value = ""
		}
		in := []flagparse.Flag{
			{Name: name, Value: value, HasValue: hasValue, Raw: "--" + name},
			{Name: name, Value: value, HasValue: hasValue, Raw: "--" + name},
		}
		r := Map(in)
		if len(r.Flags) != len(in) {
			t.Fatalf("%d results for %d flags", len(r.Flags), len(in))
		}
		decodeStrict(t, r.Values)
		cfg := mke4.Default()
		cfg.Spec.Kubelet.CustomProfiles = []mke4.KubeletCustomProfile{{Name: "p", Values: r.Values}}
		if _, err := mke4.Marshal(cfg); err != nil {
			t.Fatalf("Values do not marshal into mke4.yaml: %v", err)
		}
	})
}

// FuzzMapStringLenient checks MapStringLenient against MapString: the same
// result when the profile parses, no panic, an error only when the profile
// cannot be split, and strays that are words of the profile, each at its
// own position.
func FuzzMapStringLenient(f *testing.F) {
	for _, s := range []string{
		"--fail-swap-on false --max-pods=50",
		"--max-pods=50 stray 'a b' --fail-swap-on true -v 2",
		`--node-labels "a=b c" x --register-node`,
		"-- - ---x --=v --max-pods",
		`'it'\''s' --cluster-dns=10.0.0.10`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, profile string) {
		r, strays, err := MapStringLenient(profile)
		words, serr := flagparse.Split(profile)
		if (err != nil) != (serr != nil) {
			t.Fatalf("lenient error %v, split error %v", err, serr)
		}
		if err != nil {
			return
		}
		if strict, serr := MapString(profile); serr == nil {
			if len(strays) != 0 || len(strict.Flags) != len(r.Flags) {
				t.Fatalf("strict parse ok, lenient gives %d strays and %d flags for %d", len(strays), len(r.Flags), len(strict.Flags))
			}
			return
		}
		if len(strays) == 0 {
			t.Fatal("strict parse failed, lenient reported no stray word")
		}
		last := -1
		for _, s := range strays {
			if s.Index < 0 || s.Index >= len(words) || words[s.Index] != s.Input {
				t.Fatalf("stray %q at %d is not word %d of %q", s.Input, s.Index, s.Index, words)
			}
			if s.Index == last {
				t.Fatalf("stray word %d reported twice", s.Index)
			}
			last = s.Index
		}
		if r.Values == nil {
			t.Fatal("nil Values")
		}
	})
}
