package testbed

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Networks are /20 subnets of 10.224.0.0/12 (256 of them, 4 096 addresses
// each), apart from the 10.250.0.0/16 of earlier versions of the test bed so
// that both can run on one machine at the same time.
const (
	netBase     = 0x0ae00000 // 10.224.0.0
	netBits     = 20
	netCount    = 256
	netIfPrefix = "mken"
	// In a network: .0.0 the subnet, .0.1 the machine (Gateway), .0.2 the
	// load balancer (LB), .0.3 never used (Unassigned), .0.4-.0.10
	// reserved, hosts from .0.11 up to the
	// last address before the broadcast address.
	gatewayOffset = 1
	lbOffset      = 2
	unusedOffset  = 3
	firstHost     = 11
	// MaxNetworkHosts is how many hosts one Network holds.
	MaxNetworkHosts = 1<<(32-netBits) - 1 - firstHost
	uplink          = "up0" // the macvlans' parent in the switch namespace
)

// Network is one private IPv4 network of test-bed hosts: every host on it
// reaches every other at its Address, and the machine reaches all of them
// (it owns Gateway and LB). Hosts of different networks cannot reach each
// other, and no host has a route out: the network has no router.
//
// It is built as a switch in a network namespace of its own, held by a
// sleeping process the kernel kills when the test process dies (Pdeathsig):
// in that namespace a veth pair is the parent of one macvlan (mode bridge)
// per host, created straight into the host's network namespace as eth0,
// and of one more, Interface (mkenN), in the machine's namespace. Deleting
// the parent deletes them all, so a killed test process leaves nothing.
// Claiming N by creating mkenN is atomic, so test processes running in
// parallel never share a subnet.
//
// MAC addresses are derived from the IPv4 addresses (02:00:a:b:c:d), and
// the machine's and each host's entries for each other are static
// (permanent) neighbour entries: ARP tables are shared by all network
// namespaces of the kernel (net.ipv4.neigh.default.gc_thresh3, 1 024 by
// default), and permanent entries do not count against that limit, so a
// thousand hosts reached by the machine do not overflow it. IPv6 is off on
// the network's interfaces (the test bed is IPv4 only; it saves a thousand
// hosts' neighbour discovery). The machine does not forward packets
// received on Interface (its forwarding sysctl is 0), so a host that adds a
// default route through Gateway still reaches nothing beyond the machine.
type Network struct {
	// Subnet is the network's prefix, a /20 in 10.224.0.0/12.
	Subnet netip.Prefix
	// Gateway is the machine's address on the network. It is not a router.
	Gateway string
	// LB is a second address of the machine on the network, kept for a
	// load balancer run by the test process (see Cluster.LoadBalancer).
	LB string
	// Interface is the machine's interface on the network (mkenN).
	Interface string
	// Unassigned is an address of Subnet that nothing ever owns: a dial to
	// it gets no answer at all (no ARP reply), as to a host that is off.
	Unassigned string

	gwMAC    string
	holder   *exec.Cmd
	done     chan struct{}
	mu       sync.Mutex
	used     map[int]bool // host offsets in use
	next     int          // next offset to try
	closed   bool
	closeOne sync.Once
	closeErr error
}

// NewNetwork creates an empty network. Close it when done (after the hosts
// on it are stopped); if the process dies, the kernel removes it.
func NewNetwork(ctx context.Context) (*Network, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	n := &Network{used: map[int]bool{}, next: firstHost, done: make(chan struct{})}
	// sleep is exec'd by unshare in the new namespace: same process, so
	// Pdeathsig still applies.
	n.holder = exec.Command("unshare", "--net", "sleep", "infinity")
	n.holder.SysProcAttr = sysProcAttr()
	if err := n.holder.Start(); err != nil {
		return nil, fmt.Errorf("testbed: network: start unshare: %w", err)
	}
	go func() { _ = n.holder.Wait(); close(n.done) }()
	if err := n.setup(ctx); err != nil {
		_ = n.Close()
		return nil, fmt.Errorf("testbed: network: %w", err)
	}
	return n, nil
}

func (n *Network) pid() string { return strconv.Itoa(n.holder.Process.Pid) }

func (n *Network) setup(ctx context.Context) error {
	if err := waitNetns(ctx, n.holder.Process.Pid, n.done); err != nil {
		return err
	}
	if err := run(ctx, "nsenter", "-t", n.pid(), "-n", "sh", "-c",
		"echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 && "+
			"ip link add "+uplink+" type veth peer name up1 && ip link set "+uplink+" up && ip link set up1 up"); err != nil {
		return err
	}
	idx, err := n.claim(ctx)
	if err != nil {
		return err
	}
	base := netip.AddrFrom4(be4(netBase + uint32(idx)<<(32-netBits)))
	n.Subnet = netip.PrefixFrom(base, netBits)
	n.Gateway = offsetAddr(base, gatewayOffset).String()
	n.LB = offsetAddr(base, lbOffset).String()
	n.Unassigned = offsetAddr(base, unusedOffset).String()
	// Received packets are not forwarded anywhere, whatever ip_forward says.
	if err := os.WriteFile("/proc/sys/net/ipv4/conf/"+n.Interface+"/forwarding", []byte("0"), 0o644); err != nil {
		return err
	}
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+n.Interface+"/disable_ipv6", []byte("1"), 0o644)
	for _, a := range []string{n.Gateway, n.LB} {
		if err := run(ctx, "ip", "addr", "add", a+"/"+strconv.Itoa(netBits), "dev", n.Interface); err != nil {
			return err
		}
	}
	return run(ctx, "ip", "link", "set", n.Interface, "up")
}

// claim creates mkenN, the machine's macvlan, for the first free N from a
// random start: creating the link is the claim, it fails with "File
// exists" when another network (of any process) owns N. Subnets that
// overlap an address of the machine's other interfaces are skipped.
func (n *Network) claim(ctx context.Context) (int, error) {
	r, err := rand.Int(rand.Reader, big.NewInt(netCount))
	if err != nil {
		return 0, err
	}
	taken, err := machinePrefixes()
	if err != nil {
		return 0, err
	}
	start := int(r.Int64())
	self := strconv.Itoa(os.Getpid())
	for i := range netCount {
		idx := (start + i) % netCount
		base := netip.AddrFrom4(be4(netBase + uint32(idx)<<(32-netBits)))
		sub := netip.PrefixFrom(base, netBits)
		if overlaps(sub, taken) {
			continue
		}
		name := netIfPrefix + strconv.Itoa(idx)
		mac := macOf(offsetAddr(base, gatewayOffset))
		out, err := exec.CommandContext(ctx, "nsenter", "-t", n.pid(), "-n", "ip", "link", "add", "link", uplink,
			"name", name, "netns", self, "address", mac, "type", "macvlan", "mode", "bridge").CombinedOutput()
		if err == nil {
			n.Interface, n.gwMAC = name, mac
			return idx, nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if !bytes.Contains(out, []byte("File exists")) {
			return 0, fmt.Errorf("ip link add %s: %w: %s", name, err, bytes.TrimSpace(out))
		}
	}
	return 0, errors.New("no free /20 in 10.224.0.0/12: 256 test-bed networks are up")
}

// machinePrefixes lists the prefixes of the machine's addresses, except
// those of test-bed networks (whose names are claimed instead).
func machinePrefixes() ([]netip.Prefix, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var ps []netip.Prefix
	for _, it := range ifs {
		if strings.HasPrefix(it.Name, netIfPrefix) {
			continue
		}
		addrs, err := it.Addrs()
		if err != nil {
			continue // the interface went away meanwhile
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if p, err := netip.ParsePrefix(ipn.String()); err == nil && p.Addr().Is4() {
					ps = append(ps, p.Masked())
				}
			}
		}
	}
	return ps, nil
}

func overlaps(p netip.Prefix, ps []netip.Prefix) bool {
	for _, q := range ps {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}

func be4(v uint32) [4]byte { return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

func offsetAddr(base netip.Addr, off int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	return netip.AddrFrom4(be4(v + uint32(off)))
}

// macOf is a locally administered unicast MAC made of a's four bytes:
// unique per address on the machine, and the same after a host restarts
// with the address, so no neighbour entry goes stale.
func macOf(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
}

// attach gives the process pid (in its own network namespace) an eth0 on
// the network with a free address, and returns the address.
func (n *Network) attach(ctx context.Context, pid int) (string, error) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return "", errors.New("network is closed")
	}
	off := 0
	for range MaxNetworkHosts {
		o := n.next
		n.next++
		if n.next >= firstHost+MaxNetworkHosts {
			n.next = firstHost
		}
		if !n.used[o] {
			off = o
			n.used[o] = true
			break
		}
	}
	n.mu.Unlock()
	if off == 0 {
		return "", fmt.Errorf("network %s is full (%d hosts)", n.Subnet, MaxNetworkHosts)
	}
	a := offsetAddr(n.Subnet.Addr(), off)
	addr, mac := a.String(), macOf(a)
	err := n.link(ctx, pid, addr, mac)
	if err != nil {
		n.release(addr)
		return "", err
	}
	return addr, nil
}

func (n *Network) link(ctx context.Context, pid int, addr, mac string) error {
	if err := run(ctx, "nsenter", "-t", n.pid(), "-n", "ip", "link", "add", "link", uplink, "name", "eth0",
		"netns", strconv.Itoa(pid), "address", mac, "type", "macvlan", "mode", "bridge"); err != nil {
		return err
	}
	// Permanent neighbour entries on both sides (see Network); added once
	// the link is up, since taking a link down flushes them.
	bits := strconv.Itoa(netBits)
	if err := run(ctx, "nsenter", "-t", strconv.Itoa(pid), "-n", "sh", "-c",
		"ip link set lo up && echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6 && "+
			"ip addr add "+addr+"/"+bits+" dev eth0 && ip link set eth0 up && "+
			"ip neigh replace "+n.Gateway+" lladdr "+n.gwMAC+" dev eth0 nud permanent && "+
			"ip neigh replace "+n.LB+" lladdr "+n.gwMAC+" dev eth0 nud permanent"); err != nil {
		return err
	}
	return run(ctx, "ip", "neigh", "replace", addr, "lladdr", mac, "dev", n.Interface, "nud", "permanent")
}

// release frees addr and the machine's neighbour entry for it.
func (n *Network) release(addr string) {
	a, err := netip.ParseAddr(addr)
	if err != nil || !n.Subnet.Contains(a) {
		return
	}
	_ = exec.Command("ip", "neigh", "del", addr, "dev", n.Interface).Run()
	base, b := n.Subnet.Addr().As4(), a.As4()
	off := int(b[2]-base[2])<<8 | int(b[3])
	n.mu.Lock()
	delete(n.used, off)
	n.mu.Unlock()
}

// Hosts returns how many hosts are attached.
func (n *Network) Hosts() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.used)
}

// Close removes the network: the machine's interface, and the eth0 of
// every host still on it. It is idempotent.
func (n *Network) Close() error {
	n.closeOne.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		var errs []error
		if n.Interface != "" {
			// at once, rather than when the kernel gets to the namespace
			out, err := exec.Command("ip", "link", "del", n.Interface).CombinedOutput()
			if err != nil && !bytes.Contains(out, []byte("Cannot find device")) {
				errs = append(errs, fmt.Errorf("ip link del %s: %w: %s", n.Interface, err, bytes.TrimSpace(out)))
			}
		}
		if n.holder != nil && n.holder.Process != nil {
			_ = n.holder.Process.Kill()
			select {
			case <-n.done:
			case <-time.After(10 * time.Second):
				errs = append(errs, fmt.Errorf("unshare (pid %d) did not exit", n.holder.Process.Pid))
			}
		}
		if err := errors.Join(errs...); err != nil {
			n.closeErr = fmt.Errorf("testbed: close network %s: %w", n.Subnet, err)
		}
	})
	return n.closeErr
}

// waitNetns waits until pid sits in a net namespace other than ours.
func waitNetns(ctx context.Context, pid int, done <-chan struct{}) error {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return err
	}
	for {
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err == nil && ns != self {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the network namespace: %w", ctx.Err())
		case <-done:
			return errors.New("unshare exited before making its network namespace")
		case <-time.After(5 * time.Millisecond):
		}
	}
}
