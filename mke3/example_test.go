package mke3_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/mke-migrate/mke-migrate/mke3"
)

// fakeMKE is a two-page account list behind a login, enough for examples.
func fakeMKE() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
		var creds struct{ Username, Password string }
		_ = json.NewDecoder(r.Body).Decode(&creds)
		if creds.Username != "admin" || creds.Password != "orcaorcaorca" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"invalid credentials"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"auth_token":"example-token","token_id":"1"}`))
	})
	mux.HandleFunc("GET /enzi/v0/accounts", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer example-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("start") == "" {
			w.Header().Set("X-Next-Page-Start", "carol")
			_, _ = w.Write([]byte(`{"accounts":[{"name":"alice","id":"a1","isAdmin":true},{"name":"bob","id":"b1"}]}`))
			return
		}
		_, _ = w.Write([]byte(`{"accounts":[{"name":"carol","id":"c1"}]}`))
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake of Example_certificateError
	srv.StartTLS()
	return srv
}

// List every user, following the pages; the client logs in by itself.
func Example_listAccounts() {
	srv := fakeMKE()
	defer srv.Close()
	// The MKE CA; in real use, from `docker run --rm mirantis/ucp dump-certs --ca`.
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	c, err := mke3.New(mke3.Options{
		Host:      srv.URL,
		Username:  "admin",
		Password:  "orcaorcaorca",
		CACertPEM: caPEM,
		PageSize:  2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for acct, err := range c.Accounts(context.Background(), mke3.AccountsUsers) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(acct.Name, acct.IsAdmin)
	}
	// Output:
	// alice true
	// bob false
	// carol false
}

// A server whose certificate is not trusted gives a *CertificateError that
// carries its fingerprint, to check and then pin.
func Example_certificateError() {
	srv := fakeMKE()
	defer srv.Close()

	c, _ := mke3.New(mke3.Options{Host: srv.URL, Username: "admin", Password: "orcaorcaorca"})
	_, err := c.ListAccounts(context.Background(), mke3.AccountsAll)
	var certErr *mke3.CertificateError
	if !errors.As(err, &certErr) {
		fmt.Println("unexpected:", err)
		return
	}
	// After checking the fingerprint out of band:
	c, _ = mke3.New(mke3.Options{Host: srv.URL, Username: "admin", Password: "orcaorcaorca", CAFingerprint: certErr.Fingerprint})
	accounts, err := c.ListAccounts(context.Background(), mke3.AccountsAll)
	fmt.Println(len(accounts), err)
	// Output:
	// 3 <nil>
}

// Wrong credentials are an *APIError that matches ErrUnauthorized and never
// repeats the password.
func Example_wrongPassword() {
	srv := fakeMKE()
	defer srv.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	c, _ := mke3.New(mke3.Options{Host: srv.URL, Username: "admin", Password: "guess", CACertPEM: caPEM})
	err := c.Login(context.Background())
	fmt.Println(errors.Is(err, mke3.ErrUnauthorized))
	fmt.Println(err)
	// Output:
	// true
	// mke3: POST /auth/login: 401 UNAUTHORIZED: invalid credentials
}
