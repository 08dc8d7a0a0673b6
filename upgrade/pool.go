package upgrade

import (
	"context"
	"fmt"
	"sync"

	"github.com/mke-migrate/mke-migrate/hosts"
)

// clientPool keeps one connection per host for the whole run; it is the
// run's plan.Nodes.
type clientPool struct {
	opts  hosts.ConnectOptions
	hosts map[string]hosts.Host

	mu      sync.Mutex
	clients map[string]*hosts.Client
	dialing map[string]*sync.Mutex
	spent   map[string]int   // commands of closed connections
	sentB   map[string]int64 // bytes sent on closed connections
}

func newClientPool(hs []hosts.Host, o hosts.ConnectOptions) *clientPool {
	p := &clientPool{opts: o, hosts: map[string]hosts.Host{}, clients: map[string]*hosts.Client{}, dialing: map[string]*sync.Mutex{}, spent: map[string]int{}, sentB: map[string]int64{}}
	for _, h := range hs {
		p.hosts[hostKey(h)] = h
	}
	return p
}

// hostKey is how steps name hosts: address:port (hosts.Host.String).
func hostKey(h hosts.Host) string { return h.String() }

// Node is the connection to host, for plan.Nodes.
func (p *clientPool) Node(ctx context.Context, host string) (hosts.Node, error) {
	c, err := p.get(ctx, host)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (p *clientPool) get(ctx context.Context, key string) (*hosts.Client, error) {
	p.mu.Lock()
	h, ok := p.hosts[key]
	if !ok {
		p.mu.Unlock()
		return nil, fmt.Errorf("upgrade: no host %s in hosts.yaml", key)
	}
	if c := p.clients[key]; c != nil && c.Err() == nil {
		p.mu.Unlock()
		return c, nil
	}
	dl := p.dialing[key]
	if dl == nil {
		dl = &sync.Mutex{}
		p.dialing[key] = dl
	}
	p.mu.Unlock()
	dl.Lock()
	defer dl.Unlock()
	p.mu.Lock()
	if c := p.clients[key]; c != nil && c.Err() == nil {
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := hosts.Connect(ctx, h, p.opts)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if old := p.clients[key]; old != nil {
		p.spent[key] += old.Commands()
		p.sentB[key] += old.BytesSent()
		_ = old.Close()
	}
	p.clients[key] = c
	p.mu.Unlock()
	return c, nil
}

// commands counts the remote commands of every host's connections,
// including ones replaced after they broke.
func (p *clientPool) commands() map[string]int {
	return perHost(p, p.spent, (*hosts.Client).Commands)
}

// bytesSent is what this machine sent to each host (command lines and
// standard input) on every connection of the run, including ones
// replaced after they broke.
func (p *clientPool) bytesSent() map[string]int64 {
	return perHost(p, p.sentB, (*hosts.Client).BytesSent)
}

// perHost is, for each host, closed (the count of its closed
// connections) plus count of its current one.
func perHost[T int | int64](p *clientPool, closed map[string]T, count func(*hosts.Client) T) map[string]T {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]T, len(p.clients))
	for k, c := range p.clients {
		out[k] = closed[k] + count(c)
	}
	return out
}

func (p *clientPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		_ = c.Close()
	}
	p.clients = map[string]*hosts.Client{}
}
