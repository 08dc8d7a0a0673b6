package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
)

// serve is the process behind ucp-controller on a realistic node:
// MKE 3's web UI and API on the controller port (443 by default) and the
// Kubernetes API endpoint (6443 by default, proxied to the API server's
// own port). The MKE 3.8 port table ("Open ports to incoming traffic")
// lists 443 "MKE web UI and API" and 6443 "Kubernetes API server
// endpoint" on managers, and the manager-nodes page names ucp-controller
// "the MKE web server"; which container holds 6443 is not documented, so
// the fake gives both to ucp-controller: whatever else stops, 6443 stays
// taken until ucp-controller stops too (at least as strict as reality).
//
//	fakenode serve --controller-port=443 --kube-apiserver-port=6443
//	   --kube-apiserver-backend=127.0.0.1:12388 --tls-dir=DIR
//
// DIR holds cert.pem and key.pem. /_ping answers OK, like MKE's.
func serve(args []string) error {
	vals, _, _ := flags(args)
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	// calico-node's health endpoint (MKE 3.8 ports: 9099 "Calico health
	// check"; calico-node runs with host networking, so it holds the
	// host's port while its pod runs)
	if p := first(vals, "--health-port"); p != "" {
		l, err := net.Listen("tcp", ":"+p)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		mux := http.NewServeMux()
		ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
		mux.HandleFunc("/liveness", ok)
		mux.HandleFunc("/readiness", ok)
		wg.Go(func() { errc <- http.Serve(l, mux) })
	}
	if p := first(vals, "--controller-port"); p != "" {
		tlsDir := first(vals, "--tls-dir")
		cert, err := tls.LoadX509KeyPair(tlsDir+"/cert.pem", tlsDir+"/key.pem")
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		l, err := tls.Listen("tcp", ":"+p, &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/_ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "OK") })
		wg.Go(func() { errc <- http.Serve(l, mux) })
	}
	if p, backend := first(vals, "--kube-apiserver-port"), first(vals, "--kube-apiserver-backend"); p != "" && backend != "" {
		l, err := net.Listen("tcp", ":"+p)
		if err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		wg.Go(func() { errc <- proxy(l, backend) })
	}
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// proxy forwards every TCP connection l accepts to backend.
func proxy(l net.Listener, backend string) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if strings.Contains(err.Error(), "use of closed") {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			b, err := net.Dial("tcp", backend)
			if err != nil {
				return
			}
			defer b.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
			go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
			<-done
		}()
	}
}
