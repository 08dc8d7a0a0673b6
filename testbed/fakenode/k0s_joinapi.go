//go:build !fakenodelight

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// serveJoinAPI is cmd/api/api.go (v1.33.9+k0s.0): on :<k0sApiPort>
// (9443), TLS with pki/k0s-api.crt, POST /v1beta1/etcd/members (etcd
// member add, answering the initial cluster and the etcd CA) and GET
// /v1beta1/ca (cluster CA and SA keys), both only for a bearer bootstrap
// token whose Secret has the usage controller-join; others get 401
// "go away".
func (d *daemon) serveJoinAPI(ctx context.Context, cfg *v1beta1.ClusterConfig, pki string, etcdTLS *tls.Config, client kubernetes.Interface) error {
	secrets := client.CoreV1().Secrets(metav1.NamespaceSystem)
	auth := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if ok {
				id, _, _ := cutDot(tok)
				s, err := secrets.Get(r.Context(), "bootstrap-token-"+id, metav1.GetOptions{})
				if err == nil && tokenAllows(s, tok, "controller-join", now()) {
					next(w, r)
					return
				}
			}
			sendError(w, errors.New("go away"), http.StatusUnauthorized)
		}
	}
	method := func(m string, next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != m {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return
			}
			next(w, r)
		}
	}
	mux := http.NewServeMux()
	st := cfg.Spec.Storage
	if st.Type == v1beta1.EtcdStorageType && !st.Etcd.IsExternalClusterUsed() {
		mux.Handle("/v1beta1/etcd/members", method(http.MethodPost, auth(func(w http.ResponseWriter, r *http.Request) {
			var req v1beta1.EtcdRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				sendError(w, err, http.StatusInternalServerError)
				return
			}
			if err := req.Validate(); err != nil {
				sendError(w, err, http.StatusInternalServerError)
				return
			}
			var added struct {
				Members []etcdMember `json:"members"`
			}
			if err := etcdJSON(r.Context(), etcdTLS, "/v3/cluster/member/add", map[string]any{"peerURLs": []string{req.PeerAddress}}, &added); err != nil {
				sendError(w, err, http.StatusInternalServerError)
				return
			}
			var resp v1beta1.EtcdResponse
			for _, m := range added.Members {
				name := m.Name
				if name == "" && len(m.PeerURLs) > 0 && m.PeerURLs[0] == req.PeerAddress {
					name = req.Node
				}
				for _, u := range m.PeerURLs {
					resp.InitialCluster = append(resp.InitialCluster, name+"="+u)
				}
			}
			var err error
			if resp.CA.Cert, err = os.ReadFile(filepath.Join(pki, "etcd", "ca.crt")); err == nil {
				resp.CA.Key, err = os.ReadFile(filepath.Join(pki, "etcd", "ca.key"))
			}
			if err != nil {
				sendError(w, err, http.StatusInternalServerError)
				return
			}
			w.Header().Set("content-type", "application/json")
			_ = json.NewEncoder(w).Encode(resp)
		})))
	}
	if st.IsJoinable() {
		mux.Handle("/v1beta1/ca", method(http.MethodGet, auth(func(w http.ResponseWriter, _ *http.Request) {
			var resp v1beta1.CaResponse
			var err error
			for _, f := range []struct {
				dst  *[]byte
				name string
			}{{&resp.Key, "ca.key"}, {&resp.Cert, "ca.crt"}, {&resp.SAKey, "sa.key"}, {&resp.SAPub, "sa.pub"}} {
				if *f.dst, err = os.ReadFile(filepath.Join(pki, f.name)); err != nil {
					sendError(w, err, http.StatusInternalServerError)
					return
				}
			}
			w.Header().Set("content-type", "application/json")
			_ = json.NewEncoder(w).Encode(resp)
		})))
	}
	ip, ok := cfg.Spec.API.ExtraArgs["bind-address"]
	if !ok && cfg.Spec.API.OnlyBindToAddress {
		ip = cfg.Spec.API.Address
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(pki, "k0s-api.crt"), filepath.Join(pki, "k0s-api.key"))
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(cfg.Spec.API.K0sAPIPort)))
	if err != nil {
		return fmt.Errorf("k0s-api: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return nil
}

// sendError is cmd/api's: the error text with the status.
func sendError(w http.ResponseWriter, err error, code int) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(err.Error()))
}

// joinClient is pkg/token.JoinClient: the join API behind a controller
// token, trusting the token's CA.
type joinClient struct {
	t *joinToken
	c *http.Client
}

func newJoinClient(token string) (*joinClient, error) {
	t, err := decodeJoinToken(token)
	if err != nil {
		return nil, fmt.Errorf("failed to decode token: %w", err)
	}
	if t.User != controllerTokenUser {
		return nil, fmt.Errorf("wrong token type %s, expected type: %s", t.User, controllerTokenUser)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(t.CA) {
		return nil, errors.New("failed to create join client: no CA certificate in the token")
	}
	return &joinClient{t: t, c: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}}, nil
}

func (j *joinClient) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(j.t.Server, "/")+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+j.t.Token)
	resp, err := j.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		// client-go's rest client error for an unexpected status
		if resp.StatusCode == http.StatusUnauthorized {
			return errors.New("Unauthorized")
		}
		return fmt.Errorf("an error on the server (%q) has prevented the request from succeeding", strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, out)
}

// retry runs f up to attempts times, backing off from delay (retry-go's
// defaults in cmd/controller and etcd.go), and returns the last error.
func retry(ctx context.Context, attempts int, delay time.Duration, f func() error) error {
	var err error
	for i := 0; i < attempts; i++ {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
		if delay > 5*time.Second {
			delay = 5 * time.Second
		}
	}
	return err
}

// joinController is cmd/controller joinController: GET /v1beta1/ca and
// write ca.* and sa.* ("failed to join existing cluster via <url>: …" when
// the join API does not answer).
func (d *daemon) joinController(ctx context.Context, token, pki string) (*joinClient, error) {
	jc, err := newJoinClient(token)
	if err != nil {
		return nil, fmt.Errorf("failed to create join client: %w", err)
	}
	d.logf("Joining existing cluster via %s", jc.t.Server)
	var ca v1beta1.CaResponse
	err = retry(ctx, 10, 100*time.Millisecond, func() error {
		return jc.do(ctx, http.MethodGet, "/v1beta1/ca", nil, &ca)
	})
	if err != nil {
		return nil, fmt.Errorf("failed to join existing cluster via %s: %w", jc.t.Server, err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{{"ca.key", ca.Key, 0o600}, {"ca.crt", ca.Cert, 0o644}, {"sa.key", ca.SAKey, 0o600}, {"sa.pub", ca.SAPub, 0o644}} {
		if err := writeSecure(filepath.Join(pki, f.name), f.data, f.mode); err != nil {
			return nil, err
		}
	}
	return jc, nil
}

// joinEtcd is Etcd.syncEtcdConfig: POST /v1beta1/etcd/members, keep an
// existing etcd CA, else write the one answered.
func (j *joinClient) joinEtcd(ctx context.Context, name, peerURL, etcdPKI string) ([]string, error) {
	var resp v1beta1.EtcdResponse
	err := retry(ctx, 10, time.Second, func() error {
		return j.do(ctx, http.MethodPost, "/v1beta1/etcd/members", v1beta1.EtcdRequest{Node: name, PeerAddress: peerURL}, &resp)
	})
	if err != nil {
		return nil, fmt.Errorf("failed to synchronize etcd config with existing cluster via %s: %w", j.t.Server, err)
	}
	crt, key := filepath.Join(etcdPKI, "ca.crt"), filepath.Join(etcdPKI, "ca.key")
	if !fileExists(crt) || !fileExists(key) {
		if err := writeSecure(key, resp.CA.Key, 0o600); err != nil {
			return nil, err
		}
		if err := writeSecure(crt, resp.CA.Cert, 0o600); err != nil {
			return nil, err
		}
	}
	return resp.InitialCluster, nil
}
