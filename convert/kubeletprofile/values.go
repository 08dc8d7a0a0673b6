package kubeletprofile

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/validate/content"
)

// A parser turns a flag value into the JSON shape of its KubeletConfiguration
// field. Its error says what form was expected; Map adds the flag and value.
type parser func(value string) (any, error)

// Every parser below mirrors how the kubelet reads the flag (pflag types and
// k8s.io/component-base/cli/flag), plus the single-field checks of the
// kubelet's own configuration validation, so that a converted value would
// not stop the MKE 4k kubelet from starting.

func boolValue(v string) (any, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, errors.New("expected true or false (or the bare flag for true)")
	}
	return b, nil
}

// intRange parses an integer of the given bit size (pflag uses base 0, so
// 0x10 is accepted as the kubelet does) and checks [lo, hi].
func intRange(bits int, lo, hi int64) parser {
	return func(v string) (any, error) {
		n, err := strconv.ParseInt(v, 0, bits)
		if err != nil {
			return nil, fmt.Errorf("expected a whole number between %d and %d", lo, hi)
		}
		if n < lo || n > hi {
			return nil, fmt.Errorf("expected a whole number between %d and %d", lo, hi)
		}
		return n, nil
	}
}

const (
	minInt32 = -1 << 31
	maxInt32 = 1<<31 - 1
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

var (
	anyInt32    = intRange(32, minInt32, maxInt32)
	nonNegInt32 = intRange(32, 0, maxInt32)
	anyInt64    = intRange(64, minInt64, maxInt64)
	nonNegInt64 = intRange(64, 0, maxInt64)
	percent     = intRange(32, 0, 100)
	portAny     = intRange(32, 0, 65535) // 0 disables the listener
	portNonZero = intRange(32, 1, 65535)
	iptablesBit = intRange(32, 0, 31)
)

func stringValue(v string) (any, error) { return v, nil }

func enum(allowed ...string) parser {
	return func(v string) (any, error) {
		for _, a := range allowed {
			if v == a {
				return v, nil
			}
		}
		return nil, fmt.Errorf("expected one of %s", strings.Join(allowed, ", "))
	}
}

// durationValue normalises to Go's Duration.String(), the form
// metav1.Duration writes back, so output is stable whatever the input style.
func durationValue(v string) (any, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return nil, errors.New("expected a duration such as 30s, 5m or 1h30m")
	}
	return d.String(), nil
}

func nonNegDuration(v string) (any, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return nil, errors.New("expected a non-negative duration such as 30s, 5m or 1h30m")
	}
	return d.String(), nil
}

// cfsQuotaPeriod is limited by kubelet validation to 1ms..1s.
func cfsQuotaPeriod(v string) (any, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Millisecond || d > time.Second {
		return nil, errors.New("expected a duration between 1ms and 1s, such as 100ms")
	}
	return d.String(), nil
}

// ipValue uses net.ParseIP. The kubelet parses "sloppily" and also accepts
// IPv4 with leading zeros (010.0.0.1); such values are reported instead,
// because their meaning differs between tools.
func ipValue(v string) (any, error) {
	if net.ParseIP(v) == nil {
		return nil, errors.New("expected an IP address such as 0.0.0.0 or ::")
	}
	return v, nil
}

// maxQuantityExponent bounds the decimal exponent of a quantity (1e3, 5E-2).
// resource.ParseQuantity takes seconds to minutes on inputs such as
// "9e-999999999", and no real resource amount needs more than a few digits.
const maxQuantityExponent = 100

// parseQuantity accepts what resource.ParseQuantity (k8s.io/apimachinery)
// accepts, with the exponent bound above, and returns the quantity's sign
// (-1, 0 or 1). It follows that function's grammar rather than calling it
// because the resource package pulls apimachinery's CBOR serializer into
// every program that converts; TestParseQuantityMatchesResource and
// FuzzParseQuantity hold it to the real one. The grammar:
//
//	quantity = [sign] number suffix
//	number   = digits | digits "." [digits] | "." [digits]   (digits may be empty)
//	suffix   = "" | n u m k M G T P E | Ki Mi Gi Ti Pi Ei | (e|E) [sign] digits
//
// A number without any digit ("", "-", ".") is zero, except where
// ParseQuantity takes its arbitrary-precision path (a Pi or Ei suffix, an
// exponent below -9), which rejects it.
func parseQuantity(v string) (sign int, err error) {
	bad := fmt.Errorf("%q is not a quantity", v)
	if v == "" {
		return 0, bad
	}
	i := 0
	negative := false
	if v[i] == '+' || v[i] == '-' {
		negative = v[i] == '-'
		i++
	}
	numStart := i
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	intDigits := v[numStart:i]
	fracDigits := ""
	if i < len(v) && v[i] == '.' {
		i++
		j := i
		for i < len(v) && isDigit(v[i]) {
			i++
		}
		fracDigits = v[j:i]
	}
	suffix := v[i:]
	if suffix != "" && (suffix[0] == 'e' || suffix[0] == 'E') {
		// "Ei" and "E" are binary/decimal suffixes, not exponents, and do
		// not parse as integers; only a real exponent is checked.
		n, err := strconv.ParseInt(suffix[1:], 10, 64)
		if errors.Is(err, strconv.ErrRange) || err == nil && (n > maxQuantityExponent || n < -maxQuantityExponent) {
			return 0, fmt.Errorf("exponent of %q is out of range", v)
		}
	}
	var exponent int
	binary := false
	switch suffix {
	case "":
	case "n":
		exponent = -9
	case "u":
		exponent = -6
	case "m":
		exponent = -3
	case "k":
		exponent = 3
	case "M":
		exponent = 6
	case "G":
		exponent = 9
	case "T":
		exponent = 12
	case "P":
		exponent = 15
	case "E":
		exponent = 18
	case "Ki", "Mi", "Gi", "Ti", "Pi", "Ei":
		binary = true
		exponent = 10 * (1 + strings.IndexByte("KMGTPE", suffix[0]))
	default:
		if len(suffix) < 2 || suffix[0] != 'e' && suffix[0] != 'E' {
			return 0, bad
		}
		n, err := strconv.ParseInt(suffix[1:], 10, 64)
		if err != nil {
			return 0, bad
		}
		exponent = int(n)
	}
	if intDigits == "" && fracDigits == "" {
		// ParseQuantity's arbitrary-precision path (taken when its
		// int64 fast path cannot hold the value) needs a digit.
		if binary && exponent >= 50 || !binary && exponent < -9 {
			return 0, bad
		}
		return 0, nil
	}
	if strings.Trim(intDigits+fracDigits, "0") == "" {
		return 0, nil
	}
	if negative {
		return -1, nil
	}
	return 1, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func quantityValue(v string) (any, error) {
	if _, err := parseQuantity(v); err != nil {
		return nil, errors.New("expected a resource quantity such as 10Mi or 1Gi")
	}
	return v, nil
}

// cpuSet checks the cpuset list syntax "0-3,8,10-11" (empty is the empty set).
func cpuSet(v string) (any, error) {
	if v == "" {
		return v, nil
	}
	bad := errors.New("expected a CPU list such as 0-1,6 (numbers and ascending ranges, no spaces)")
	for _, part := range strings.Split(v, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, bad
		}
		if isRange {
			b, err := strconv.Atoi(hi)
			if err != nil || b < a {
				return nil, bad
			}
		}
	}
	return v, nil
}

// verbosity mirrors the logging flag -v: an unsigned number that fits int32.
func verbosity(v string) (any, error) {
	n, err := strconv.ParseUint(v, 10, 31)
	if err != nil {
		return nil, errors.New("expected a log verbosity between 0 and 2147483647")
	}
	return int64(n), nil
}

// splitList splits a comma-separated list, trimming items and dropping empty
// ones, as the brief for list-valued flags asks.
func splitList(v string) []string {
	out := []string{}
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// stringList parses a comma-separated list; check, when set, validates each
// item.
func stringList(check func(string) error) parser {
	return func(v string) (any, error) {
		items := splitList(v)
		if check != nil {
			for _, it := range items {
				if err := check(it); err != nil {
					return nil, err
				}
			}
		}
		return items, nil
	}
}

func checkIP(s string) error {
	if net.ParseIP(s) == nil {
		return fmt.Errorf("%q is not an IP address; expected a comma-separated list of IP addresses", s)
	}
	return nil
}

// cipherNames are the names the kubelet accepts: crypto/tls suites (secure
// and insecure, tls.CipherSuites and tls.InsecureCipherSuites) plus the two
// legacy ChaCha20 aliases component-base keeps. The list is written out
// because importing crypto/tls would pull TLS and X.509 into every program
// that converts; TestCipherNamesMatchCryptoTLS keeps it equal to crypto/tls.
var cipherNames = map[string]bool{
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305":   true,
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": true,
	// tls.CipherSuites()
	"TLS_AES_128_GCM_SHA256":                        true,
	"TLS_AES_256_GCM_SHA384":                        true,
	"TLS_CHACHA20_POLY1305_SHA256":                  true,
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA":          true,
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA":          true,
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA":            true,
	"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA":            true,
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256":       true,
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384":       true,
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256":         true,
	"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384":         true,
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256":   true,
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": true,
	// tls.InsecureCipherSuites()
	"TLS_RSA_WITH_RC4_128_SHA":                true,
	"TLS_RSA_WITH_3DES_EDE_CBC_SHA":           true,
	"TLS_RSA_WITH_AES_128_CBC_SHA":            true,
	"TLS_RSA_WITH_AES_256_CBC_SHA":            true,
	"TLS_RSA_WITH_AES_128_CBC_SHA256":         true,
	"TLS_RSA_WITH_AES_128_GCM_SHA256":         true,
	"TLS_RSA_WITH_AES_256_GCM_SHA384":         true,
	"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA":        true,
	"TLS_ECDHE_RSA_WITH_RC4_128_SHA":          true,
	"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA":     true,
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256": true,
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256":   true,
}

func checkCipher(s string) error {
	if !cipherNames[s] {
		return fmt.Errorf("unknown cipher suite %q; expected Go cipher suite names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", s)
	}
	return nil
}

var enforceLevels = []string{"pods", "system-reserved", "system-reserved-compressible",
	"kube-reserved", "kube-reserved-compressible", "none"}

func enforceNodeAllocatable(v string) (any, error) {
	items := splitList(v)
	seen := map[string]bool{}
	for _, it := range items {
		ok := false
		for _, l := range enforceLevels {
			ok = ok || it == l
		}
		if !ok {
			return nil, fmt.Errorf("unknown level %q; expected a comma-separated list of %s", it, strings.Join(enforceLevels, ", "))
		}
		if seen[it] {
			return nil, fmt.Errorf("%q is listed twice; list each level once", it)
		}
		seen[it] = true
	}
	if seen["none"] && len(items) > 1 {
		return nil, errors.New(`"none" cannot be combined with other levels`)
	}
	return items, nil
}

// pairs splits "k<sep>v,k<sep>v" like component-base's map flags: empty items
// are skipped, key and value are trimmed, and an item without sep is an error.
// Empty keys are rejected too: no map field of KubeletConfiguration has one.
func pairs(v, sep, form string) ([][2]string, error) {
	var out [][2]string
	for _, item := range strings.Split(v, ",") {
		if item == "" {
			continue
		}
		k, val, ok := strings.Cut(item, sep)
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" {
			return nil, fmt.Errorf("malformed item %q; expected %s", item, form)
		}
		out = append(out, [2]string{k, val})
	}
	return out, nil
}

// stringMap parses "k=v,..." into map[string]string; check validates each
// pair.
func stringMap(form string, check func(k, v string) error) parser {
	return func(v string) (any, error) {
		ps, err := pairs(v, "=", form)
		if err != nil {
			return nil, err
		}
		m := make(map[string]string, len(ps))
		for _, p := range ps {
			if check != nil {
				if err := check(p[0], p[1]); err != nil {
					return nil, err
				}
			}
			m[p[0]] = p[1]
		}
		return m, nil
	}
}

// reservedResources are the only resources kubeReserved/systemReserved take.
var reservedResources = map[string]bool{"cpu": true, "memory": true, "ephemeral-storage": true, "pid": true}

const reservedForm = "resource=quantity pairs such as cpu=200m,memory=512Mi (resources: cpu, memory, ephemeral-storage, pid)"

func checkReserved(k, v string) error {
	if !reservedResources[k] {
		return fmt.Errorf("cannot reserve %q; expected %s", k, reservedForm)
	}
	sign, err := parseQuantity(v)
	if err != nil || sign < 0 {
		return fmt.Errorf("%s=%s is not a non-negative quantity; expected %s", k, v, reservedForm)
	}
	return nil
}

// evictionSignals are the signals the kubelet eviction manager knows.
var evictionSignals = []string{
	"memory.available", "allocatableMemory.available",
	"nodefs.available", "nodefs.inodesFree",
	"imagefs.available", "imagefs.inodesFree",
	"containerfs.available", "containerfs.inodesFree",
	"pid.available",
}

func checkSignal(s string) error {
	for _, e := range evictionSignals {
		if s == e {
			return nil
		}
	}
	return fmt.Errorf("unknown eviction signal %q; expected one of %s", s, strings.Join(evictionSignals, ", "))
}

func parsePercent(v string) (float64, bool) {
	num, ok := strings.CutSuffix(v, "%")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(num, 32)
	if err != nil {
		return 0, false
	}
	return f, true
}

const thresholdForm = "signal<threshold pairs such as memory.available<100Mi,nodefs.available<10%"

// evictionThresholds parses evictionHard/evictionSoft: "signal<value", where
// value is a percentage from 0% to 100% or a positive quantity.
func evictionThresholds(v string) (any, error) {
	ps, err := pairs(v, "<", thresholdForm)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		if err := checkSignal(p[0]); err != nil {
			return nil, err
		}
		if strings.HasSuffix(p[1], "%") {
			if f, ok := parsePercent(p[1]); !ok || f < 0 || f > 100 {
				return nil, fmt.Errorf("threshold %q for %s is not a percentage from 0%% to 100%%; expected %s", p[1], p[0], thresholdForm)
			}
		} else if sign, err := parseQuantity(p[1]); err != nil || sign <= 0 {
			return nil, fmt.Errorf("threshold %q for %s is not a positive quantity or a percentage; expected %s", p[1], p[0], thresholdForm)
		}
		m[p[0]] = p[1]
	}
	return m, nil
}

const reclaimForm = "signal=amount pairs such as imagefs.available=2Gi,nodefs.available=5%"

func checkReclaim(k, v string) error {
	if err := checkSignal(k); err != nil {
		return err
	}
	if strings.HasSuffix(v, "%") {
		if f, ok := parsePercent(v); !ok || f <= 0 || f > 100 {
			return fmt.Errorf("minimum reclaim %q for %s is not a percentage above 0%%; expected %s", v, k, reclaimForm)
		}
		return nil
	}
	if sign, err := parseQuantity(v); err != nil || sign < 0 {
		return fmt.Errorf("minimum reclaim %q for %s is not a non-negative quantity or a percentage; expected %s", v, k, reclaimForm)
	}
	return nil
}

const gracePeriodForm = "signal=duration pairs such as memory.available=1m30s"

func checkGracePeriod(k, v string) error {
	if err := checkSignal(k); err != nil {
		return err
	}
	if d, err := time.ParseDuration(v); err != nil || d < 0 {
		return fmt.Errorf("grace period %q for %s is not a non-negative duration; expected %s", v, k, gracePeriodForm)
	}
	return nil
}

const qosForm = "memory=percentage, such as memory=50% (only memory is supported)"

func checkQOSReserved(k, v string) error {
	if k != "memory" {
		return fmt.Errorf("cannot reserve %q at QoS level; expected %s", k, qosForm)
	}
	num, ok := strings.CutSuffix(v, "%")
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n < 0 || n > 100 {
		return fmt.Errorf("%q is not a whole percentage from 0%% to 100%%; expected %s", v, qosForm)
	}
	return nil
}

// Names that become map keys in the output are checked: besides catching
// typos early, it keeps keys within what a YAML encoder accepts (keys
// longer than 1024 characters are not valid YAML implicit keys).
var (
	gateName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,127}$`)
	optionName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,253}$")
)

// short trims a value for an error message.
func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// featureGates parses "Name=bool,..." into map[string]bool. Gate names
// are not checked: the set of gates depends on the MKE 4k kubelet version.
func featureGates(v string) (any, error) {
	const form = "Name=true|false pairs such as A=true,B=false"
	ps, err := pairs(v, "=", form)
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(ps))
	for _, p := range ps {
		if !gateName.MatchString(p[0]) {
			return nil, fmt.Errorf("%q is not a feature gate name (letters and digits, such as NodeSwap); expected %s", short(p[0]), form)
		}
		b, err := strconv.ParseBool(p[1])
		if err != nil {
			return nil, fmt.Errorf("%s=%s is not a boolean; expected %s", p[0], p[1], form)
		}
		m[p[0]] = b
	}
	return m, nil
}

// singleOption parses the policy-options flags, which the kubelet reads with
// a "no split" map: one key=value per flag, commas are not separators. A
// comma in the value would reach the policy as part of the value and be
// rejected there, so it is reported now.
func singleOption(flag string) parser {
	return func(v string) (any, error) {
		form := fmt.Sprintf("one option=value per flag, such as --%s=full-pcpus-only=true; repeat the flag for more options", flag)
		k, val, ok := strings.Cut(v, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || strings.Contains(val, ",") {
			return nil, errors.New("expected " + form)
		}
		if !optionName.MatchString(k) {
			return nil, fmt.Errorf("%q is not a policy option name (such as full-pcpus-only); expected %s", short(k), form)
		}
		return map[string]string{k: val}, nil
	}
}

// headerMap parses --manifest-url-header "Name:value,Name:value" into
// map[string][]string; repeated names keep every value in order.
func headerMap(v string) (any, error) {
	ps, err := pairs(v, ":", "Header:value pairs such as Authorization:Bearer x,X-A:b")
	if err != nil {
		return nil, err
	}
	m := map[string][]string{}
	for _, p := range ps {
		if !headerName.MatchString(p[0]) {
			return nil, fmt.Errorf("%q is not an HTTP header name", short(p[0]))
		}
		m[p[0]] = append(m[p[0]], p[1])
	}
	return m, nil
}

const reservedMemoryForm = "numaNode:type=quantity[,type=quantity...] entries separated by ';', such as 0:memory=1Gi,hugepages-2Mi=2Gi;1:memory=2Gi"

// reservedMemory parses --reserved-memory into []any of {numaNode, limits}.
func reservedMemory(v string) (any, error) {
	if strings.TrimSpace(v) == "" {
		return nil, errors.New("empty value; expected " + reservedMemoryForm)
	}
	var out []any
	for _, entry := range strings.Split(v, ";") {
		node, list, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok || strings.Contains(list, ":") {
			return nil, fmt.Errorf("malformed entry %q; expected %s", entry, reservedMemoryForm)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(node), 10, 32)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("NUMA node %q is not a non-negative whole number; expected %s", node, reservedMemoryForm)
		}
		limits := map[string]string{}
		for _, item := range strings.Split(list, ",") {
			name, qty, ok := strings.Cut(item, "=")
			name, qty = strings.TrimSpace(name), strings.TrimSpace(qty)
			if !ok || strings.Contains(qty, "=") {
				return nil, fmt.Errorf("malformed limit %q; expected %s", item, reservedMemoryForm)
			}
			if name != "memory" && !strings.HasPrefix(name, "hugepages-") {
				return nil, fmt.Errorf("unknown memory type %q (memory or hugepages-<size>); expected %s", name, reservedMemoryForm)
			}
			if _, err := parseQuantity(qty); err != nil {
				return nil, fmt.Errorf("%q is not a quantity; expected %s", qty, reservedMemoryForm)
			}
			limits[name] = qty
		}
		out = append(out, map[string]any{"numaNode": n, "limits": limits})
	}
	return out, nil
}

var taintEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

const taintForm = "key=value:Effect or key:Effect items such as dedicated=gpu:NoSchedule (effects: NoSchedule, PreferNoSchedule, NoExecute)"

// taints parses --register-with-taints into []any of {key, value, effect};
// "value" is left out when empty, as in the Taint JSON.
func taints(v string) (any, error) {
	out := []any{}
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		kv, effect, ok := strings.Cut(item, ":")
		if !ok || strings.Contains(effect, ":") {
			return nil, fmt.Errorf("malformed taint %q; expected %s", item, taintForm)
		}
		validEffect := false
		for _, e := range taintEffects {
			validEffect = validEffect || effect == e
		}
		if !validEffect {
			return nil, fmt.Errorf("taint %q has unknown effect %q; expected %s", item, effect, taintForm)
		}
		key, value, _ := strings.Cut(kv, "=")
		if strings.Contains(value, "=") {
			return nil, fmt.Errorf("malformed taint %q; expected %s", item, taintForm)
		}
		if errs := content.IsLabelKey(key); len(errs) > 0 {
			return nil, fmt.Errorf("taint key %q is invalid (%s); expected %s", key, errs[0], taintForm)
		}
		if errs := content.IsLabelValue(value); len(errs) > 0 {
			return nil, fmt.Errorf("taint value %q is invalid (%s); expected %s", value, errs[0], taintForm)
		}
		if seen[key+":"+effect] {
			return nil, fmt.Errorf("taint %s:%s is listed twice; list each key and effect once", key, effect)
		}
		seen[key+":"+effect] = true
		t := map[string]any{"key": key, "effect": effect}
		if value != "" {
			t["value"] = value
		}
		out = append(out, t)
	}
	return out, nil
}

// vmodule parses "pattern=N,..." into []any of {filePattern, verbosity}, as
// the logging flag does.
func vmodule(v string) (any, error) {
	const form = "pattern=N items such as server*=4,kubelet.go=2"
	out := []any{}
	for _, item := range strings.Split(v, ",") {
		if item == "" {
			continue
		}
		parts := strings.Split(item, "=")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("malformed item %q; expected %s", item, form)
		}
		n, err := strconv.ParseUint(parts[1], 10, 31)
		if err != nil {
			return nil, fmt.Errorf("verbosity %q in %q is not a number from 0 to 2147483647; expected %s", parts[1], item, form)
		}
		out = append(out, map[string]any{"filePattern": parts[0], "verbosity": int64(n)})
	}
	return out, nil
}

// sortedKeys returns the keys of the map shapes produced above, sorted.
func sortedKeys(v any) []string {
	var keys []string
	switch m := v.(type) {
	case map[string]string:
		for k := range m {
			keys = append(keys, k)
		}
	case map[string]bool:
		for k := range m {
			keys = append(keys, k)
		}
	case map[string][]string:
		for k := range m {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
