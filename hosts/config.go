package hosts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Roles a host may declare in hosts.yaml.
const (
	RoleManager = "manager"
	RoleWorker  = "worker"
)

// File is a parsed hosts.yaml.
type File struct {
	Hosts []Host `yaml:"hosts"`
}

// Host is one node of hosts.yaml.
type Host struct {
	Address          string            `yaml:"address"`
	Port             int               `yaml:"port,omitempty"`
	User             string            `yaml:"user,omitempty"`
	KeyPath          string            `yaml:"keyPath,omitempty"`
	PrivateAddress   string            `yaml:"privateAddress,omitempty"`
	PrivateInterface string            `yaml:"privateInterface,omitempty"`
	Bastion          *Bastion          `yaml:"bastion,omitempty"`
	Role             string            `yaml:"role,omitempty"`
	Labels           map[string]string `yaml:"labels,omitempty"`

	// Line is where the host starts in the file (for messages).
	Line int `yaml:"-"`
}

// Bastion is a jump host.
type Bastion struct {
	Address string `yaml:"address"`
	Port    int    `yaml:"port,omitempty"`
	User    string `yaml:"user,omitempty"`
	KeyPath string `yaml:"keyPath,omitempty"`
}

// Defaults of hosts.yaml: what a host or bastion that leaves out port or
// user is reached with (the defaults of ssh(1)'s port and of mkectl's user).
const (
	DefaultPort = 22
	DefaultUser = "root"
)

// SSHPort is the port the host is reached on: Port, or DefaultPort when
// it is 0 (unset). Every use of a host's port goes through it.
func (h Host) SSHPort() int { return sshPort(h.Port) }

// SSHPort is the port the bastion is reached on (DefaultPort when unset).
func (b Bastion) SSHPort() int { return sshPort(b.Port) }

func sshPort(p int) int {
	if p == 0 {
		return DefaultPort
	}
	return p
}

// WithDefaults returns h with DefaultPort and DefaultUser where they are
// unset, on the host and on its bastion (a copy: h's bastion is left as
// it is).
func (h Host) WithDefaults() Host {
	h.Port = h.SSHPort()
	if h.User == "" {
		h.User = DefaultUser
	}
	if h.Bastion != nil {
		b := *h.Bastion
		b.Port = b.SSHPort()
		if b.User == "" {
			b.User = DefaultUser
		}
		h.Bastion = &b
	}
	return h
}

// String names the host in messages, and keys it everywhere a host is
// looked up (errors, facts, the upgrade's steps and locks): address:port,
// with DefaultPort when the port is unset, so that a host reads the same
// whether or not hosts.yaml wrote its port.
func (h Host) String() string { return net.JoinHostPort(h.Address, strconv.Itoa(h.SSHPort())) }

// ConfigError is a problem in hosts.yaml.
type ConfigError struct {
	File  string
	Line  int    // 0 when unknown
	Field string // YAML path such as hosts[1].port, when known
	Msg   string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and validates a hosts.yaml file.
func Load(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("hosts: %w", err)
	}
	return Parse(path, data)
}

var lineRe = regexp.MustCompile(`^line (\d+): (.*)$`)

// Parse decodes and validates hosts.yaml content. name is used in errors.
// Every problem is returned, joined with errors.Join, each a *ConfigError.
func Parse(name string, data []byte) (File, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return File{}, &ConfigError{File: name, Msg: "file is empty: list the nodes under hosts:"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return File{}, yamlError(name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) { // comments only: no document at all
			return File{}, &ConfigError{File: name, Msg: "file is empty: list the nodes under hosts:"}
		}
		return File{}, yamlError(name, err)
	}
	lines, nulls := hostLines(&root)
	for i := range f.Hosts {
		if i < len(lines) {
			f.Hosts[i].Line = lines[i]
		}
	}
	var errs []error
	for _, l := range nulls {
		errs = append(errs, &ConfigError{File: name, Line: l, Field: "hosts", Msg: "empty host entry: give it an address or remove the line"})
	}
	errs = append(errs, f.normalize(name)...)
	if len(errs) > 0 {
		return File{}, errors.Join(errs...)
	}
	return f, nil
}

func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var errs []error
		for _, m := range te.Errors {
			ce := &ConfigError{File: name, Msg: m}
			if sm := lineRe.FindStringSubmatch(m); sm != nil {
				ce.Line, _ = strconv.Atoi(sm[1])
				ce.Msg = cleanTypeMsg(sm[2])
			}
			errs = append(errs, ce)
		}
		return errors.Join(errs...)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	ce := &ConfigError{File: name, Msg: "invalid YAML: " + msg}
	if sm := lineRe.FindStringSubmatch(msg); sm != nil {
		ce.Line, _ = strconv.Atoi(sm[1])
		ce.Msg = "invalid YAML: " + sm[2]
	}
	return ce
}

var notFoundRe = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)

// knownFields lists, per decoded type, the fields an unknown one is
// compared with in messages.
var knownFields = map[string]string{
	"hosts.File":    "hosts",
	"hosts.Host":    "address, port, user, keyPath, privateAddress, privateInterface, bastion, role, labels",
	"hosts.Bastion": "address, port, user, keyPath",
}

func cleanTypeMsg(m string) string {
	if sm := notFoundRe.FindStringSubmatch(m); sm != nil {
		if fields, ok := knownFields[sm[2]]; ok {
			return fmt.Sprintf("unknown field %q (fields: %s)", sm[1], fields)
		}
		return fmt.Sprintf("unknown field %q", sm[1])
	}
	return m
}

// hostLines returns the line of each element of the top-level hosts list,
// and the lines of null entries (which the decoder would drop silently).
func hostLines(root *yaml.Node) (lines, nulls []int) {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil, nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "hosts" && m.Content[i+1].Kind == yaml.SequenceNode {
			for _, n := range m.Content[i+1].Content {
				// The decoder drops null entries ("- ~", a bare "-"):
				// keep lines aligned with hosts and report the nulls.
				v := n
				for v.Kind == yaml.AliasNode && v.Alias != nil {
					v = v.Alias
				}
				if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
					nulls = append(nulls, n.Line)
					continue
				}
				lines = append(lines, n.Line)
			}
			return lines, nulls
		}
	}
	return nil, nil
}

func (f *File) normalize(name string) []error {
	var errs []error
	bad := func(h Host, i int, field, msg string) {
		errs = append(errs, &ConfigError{File: name, Line: h.Line, Field: fmt.Sprintf("hosts[%d].%s", i, field), Msg: msg})
	}
	if len(f.Hosts) == 0 {
		return []error{&ConfigError{File: name, Msg: "no hosts: list the nodes under hosts:"}}
	}
	seen := map[string]int{}
	for i := range f.Hosts {
		h := &f.Hosts[i]
		*h = h.WithDefaults()
		switch {
		case strings.TrimSpace(h.Address) == "":
			bad(*h, i, "address", "required: the IP or DNS name to reach the node over SSH")
		case strings.ContainsAny(h.Address, " /@[]"):
			bad(*h, i, "address", fmt.Sprintf("%q is not a host name or IP address (put the user in user:)", h.Address))
		}
		if h.Port < 1 || h.Port > 65535 {
			bad(*h, i, "port", fmt.Sprintf("%d is not a port (1-65535)", h.Port))
		}
		if h.PrivateAddress != "" && h.PrivateInterface != "" {
			bad(*h, i, "privateAddress", "privateAddress and privateInterface are mutually exclusive: keep one")
		}
		if h.PrivateAddress != "" && net.ParseIP(h.PrivateAddress) == nil {
			bad(*h, i, "privateAddress", fmt.Sprintf("%q is not an IP address", h.PrivateAddress))
		}
		switch h.Role {
		case "", RoleManager, RoleWorker:
		default:
			bad(*h, i, "role", fmt.Sprintf("%q is not manager or worker", h.Role))
		}
		if b := h.Bastion; b != nil {
			if strings.TrimSpace(b.Address) == "" {
				bad(*h, i, "bastion.address", "required when a bastion is given")
			}
			if b.Port < 1 || b.Port > 65535 {
				bad(*h, i, "bastion.port", fmt.Sprintf("%d is not a port (1-65535)", b.Port))
			}
		}
		if j, dup := seen[h.String()]; dup {
			bad(*h, i, "address", fmt.Sprintf("%s is listed twice (also hosts[%d])", h, j))
		}
		seen[h.String()] = i
	}
	return errs
}

// KeyFile returns the host's key path with a leading "~" expanded to home.
// KeyPath itself keeps what the file says, so that configurations written
// from it (mke4.yaml) stay portable.
func (h Host) KeyFile(home string) string { return expandHome(h.KeyPath, home) }

// KeyFile returns the bastion's key path with "~" expanded to home.
func (b Bastion) KeyFile(home string) string { return expandHome(b.KeyPath, home) }

func expandHome(p, home string) string {
	if home == "" || p == "" {
		return p
	}
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}
