package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultLBPorts are the TCP ports a Cluster's load balancer forwards by
// default: those MKE 3's documentation asks of the load balancer in front
// of the managers, 443 (the UI and API) and 6443 (the Kubernetes API). Not
// 9443, k0s's join API: a controller token points at
// https://<externalAddress>:9443, which such a load balancer does not
// forward (issue 12, finding 5).
func DefaultLBPorts() []int { return []int{443, 6443} }

// LoadBalancer is a TCP load balancer run by the test process on an
// address of the machine inside a Network (Network.LB), reachable from the
// network's hosts and from the machine. Each connection to one of its ports
// goes to the same port of a backend: the backends are tried round robin
// from the next one on, and the first that accepts the connection gets it
// (a backend with nothing listening is skipped, as a load balancer's health
// check would). When no backend accepts, the client's connection is closed
// without data. A port it does not forward refuses connections.
type LoadBalancer struct {
	// Address is where it listens (no port).
	Address string

	backends []string
	rr       atomic.Uint64
	mu       sync.Mutex
	ls       map[int]net.Listener
	conns    map[net.Conn]struct{}
	closed   bool
	wg       sync.WaitGroup
}

// dialTimeout bounds the connection to one backend.
const dialTimeout = 3 * time.Second

// newLoadBalancer listens on address:port for each port and forwards to
// the backends (addresses without port).
func newLoadBalancer(address string, backends []string, ports []int) (*LoadBalancer, error) {
	lb := &LoadBalancer{Address: address, backends: slices.Clone(backends),
		ls: map[int]net.Listener{}, conns: map[net.Conn]struct{}{}}
	for _, p := range ports {
		if err := lb.AddPort(p); err != nil {
			_ = lb.Close()
			return nil, err
		}
	}
	return lb, nil
}

// Ports returns the forwarded ports, in increasing order.
func (lb *LoadBalancer) Ports() []int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	var ps []int
	for p := range lb.ls {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// Backends returns the backends' addresses.
func (lb *LoadBalancer) Backends() []string { return slices.Clone(lb.backends) }

// AddPort starts forwarding port (as an operator reconfiguring the load
// balancer would). Adding a forwarded port again is a no-op.
func (lb *LoadBalancer) AddPort(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("testbed: load balancer: bad port %d", port)
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.closed {
		return errors.New("testbed: load balancer: closed")
	}
	if lb.ls[port] != nil {
		return nil
	}
	l, err := net.Listen("tcp4", net.JoinHostPort(lb.Address, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("testbed: load balancer: %w", err)
	}
	lb.ls[port] = l
	lb.wg.Go(func() { lb.serve(l, port) })
	return nil
}

// RemovePort stops forwarding port: new connections are refused, open
// ones go on.
func (lb *LoadBalancer) RemovePort(port int) error {
	lb.mu.Lock()
	l := lb.ls[port]
	delete(lb.ls, port)
	lb.mu.Unlock()
	if l == nil {
		return nil
	}
	return l.Close()
}

func (lb *LoadBalancer) serve(l net.Listener, port int) {
	for {
		c, err := l.Accept()
		if err != nil {
			return // closed
		}
		if !lb.track(c, true) {
			_ = c.Close()
			return
		}
		lb.wg.Go(func() {
			defer lb.track(c, false)
			defer c.Close()
			b := lb.dial(port)
			if b == nil {
				return
			}
			if !lb.track(b, true) {
				_ = b.Close()
				return
			}
			defer lb.track(b, false)
			defer b.Close()
			splice(c, b)
		})
	}
}

// dial connects to the first backend that accepts, round robin.
func (lb *LoadBalancer) dial(port int) net.Conn {
	n := len(lb.backends)
	if n == 0 {
		return nil
	}
	start := int(lb.rr.Add(1) - 1)
	for i := range n {
		addr := net.JoinHostPort(lb.backends[(start+i)%n], strconv.Itoa(port))
		ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp4", addr)
		cancel()
		if err == nil {
			return c
		}
	}
	return nil
}

// track adds (or removes) c to the connections Close ends; it reports false
// once the load balancer is closed.
func (lb *LoadBalancer) track(c net.Conn, add bool) bool {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if !add {
		delete(lb.conns, c)
		return true
	}
	if lb.closed {
		return false
	}
	lb.conns[c] = struct{}{}
	return true
}

// splice copies both ways, passing each side's end of stream on as a
// half close, until both directions are done.
func splice(a, b net.Conn) {
	var wg sync.WaitGroup
	half := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	wg.Go(func() { half(a, b) })
	wg.Go(func() { half(b, a) })
	wg.Wait()
}

// Close stops listening and ends the open connections. It is idempotent.
func (lb *LoadBalancer) Close() error {
	lb.mu.Lock()
	if lb.closed {
		lb.mu.Unlock()
		return nil
	}
	lb.closed = true
	var errs []error
	for p, l := range lb.ls {
		errs = append(errs, l.Close())
		delete(lb.ls, p)
	}
	for c := range lb.conns {
		_ = c.Close()
	}
	lb.mu.Unlock()
	lb.wg.Wait()
	return errors.Join(errs...)
}
